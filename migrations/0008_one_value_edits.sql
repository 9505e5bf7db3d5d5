-- A revision records its compose edit as one value (file, service or variable, old and new
-- value). Older rows kept the whole file before and after, a `.env`'s secrets included: the
-- finished ones lose those copies (their diff stays). An open one keeps its row as it is, so
-- recovery can say it cannot read it instead of guessing.
UPDATE revisions
SET compose_edit = json_remove(compose_edit, '$.old_contents', '$.new_contents')
WHERE compose_edit IS NOT NULL AND verdict <> 'in_progress' AND json_valid(compose_edit);
