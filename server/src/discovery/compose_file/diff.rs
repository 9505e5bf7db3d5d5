//! A unified diff of one edit, for the revision record. An edit changes one contiguous run of
//! lines (one value, or one appended `.env` line), so a single hunk with a few lines of
//! context on each side (none for a `.env`, whose other lines may be secrets) describes it.

/// The context lines a diff shows by default on each side of the change.
pub(super) const CONTEXT: usize = 3;

/// `old` is `None` when the file does not exist yet. Empty when nothing changes.
pub(super) fn unified(label: &str, old: Option<&str>, new: &str, context: usize) -> String {
    let old_lines: Vec<&str> = old.unwrap_or_default().split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    if old == Some(new) {
        return String::new();
    }
    let prefix = old_lines
        .iter()
        .zip(&new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = old_lines[prefix..]
        .iter()
        .rev()
        .zip(new_lines[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let start = prefix.saturating_sub(context);
    let old_end = (old_lines.len() - suffix + context).min(old_lines.len());
    let new_end = (new_lines.len() - suffix + context).min(new_lines.len());

    let mut out = String::new();
    let from = if old.is_some() { label } else { "/dev/null" };
    out.push_str(&format!("--- {from}\n+++ {label}\n"));
    out.push_str(&format!(
        "@@ -{} +{} @@\n",
        range(start, old_end - start),
        range(start, new_end - start)
    ));
    for line in &old_lines[start..prefix] {
        push_line(&mut out, ' ', line);
    }
    for line in &old_lines[prefix..old_lines.len() - suffix] {
        push_line(&mut out, '-', line);
    }
    for line in &new_lines[prefix..new_lines.len() - suffix] {
        push_line(&mut out, '+', line);
    }
    for line in &old_lines[old_lines.len() - suffix..old_end] {
        push_line(&mut out, ' ', line);
    }
    out
}

/// `start,count` with 1-based lines; an empty range names the line before it.
fn range(start: usize, count: usize) -> String {
    match count {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{count}", start + 1),
    }
}

fn push_line(out: &mut String, mark: char, line: &str) {
    out.push(mark);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_line_gets_three_lines_of_context() {
        let old = "1\n2\n3\n4\nimage: a:1\n6\n7\n8\n9\n";
        let new = old.replace("a:1", "a:2");
        assert_eq!(
            unified("compose.yaml", Some(old), &new, CONTEXT),
            "--- compose.yaml\n+++ compose.yaml\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-image: a:1\n+image: a:2\n 6\n 7\n 8\n"
        );
        assert_eq!(
            unified(".env", Some(old), &new, 0),
            "--- .env\n+++ .env\n@@ -5 +5 @@\n-image: a:1\n+image: a:2\n"
        );
    }

    #[test]
    fn an_appended_line_and_a_missing_final_newline_are_marked() {
        assert_eq!(
            unified(".env", Some("A=1"), "A=1\nB=2\n", CONTEXT),
            "--- .env\n+++ .env\n@@ -1 +1,2 @@\n-A=1\n\\ No newline at end of file\n+A=1\n+B=2\n"
        );
        assert_eq!(
            unified(".env", None, "B=2\n", CONTEXT),
            "--- /dev/null\n+++ .env\n@@ -0,0 +1 @@\n+B=2\n"
        );
        assert_eq!(unified(".env", Some("A=1\n"), "A=1\n", CONTEXT), "");
    }
}
