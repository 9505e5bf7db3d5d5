//! Who may log in: users from the configuration, hashed with argon2 as they are loaded, or,
//! with none configured, an admin generated at first start whose password is printed once.

use std::sync::Mutex;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;

use crate::config::Config;
use crate::store::Store;

use super::AuthError;

/// The email of the admin Berth creates when no user is configured.
pub const GENERATED_ADMIN: &str = "admin@berth.local";

/// A configured user before hashing; the password never leaves this module in plain text.
#[derive(PartialEq, Eq)]
pub struct ConfiguredUser {
    pub email: String,
    password: String,
}

impl std::fmt::Debug for ConfiguredUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfiguredUser")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Read `AUTH_USERS=email:password,…`, `ADMIN_EMAIL`/`ADMIN_PASSWORD` and
/// `USERn_EMAIL`/`USERn_PASSWORD`. An email given twice is an error, not a silent override.
pub fn configured(config: &Config) -> Result<Vec<ConfiguredUser>, AuthError> {
    let mut users: Vec<ConfiguredUser> = Vec::new();
    let mut add = |key: String, email: &str, password: &str| -> Result<(), AuthError> {
        let email = email.trim().to_ascii_lowercase();
        let invalid = |reason: &str| AuthError::ConfigureUser {
            key: key.clone(),
            reason: reason.to_owned(),
        };
        if !email.contains('@') || email.chars().any(char::is_whitespace) {
            return Err(invalid("the email must look like name@host"));
        }
        if password.is_empty() {
            return Err(invalid("the password is empty"));
        }
        if users.iter().any(|user| user.email == email) {
            return Err(invalid(&format!("{email} is configured twice")));
        }
        users.push(ConfiguredUser {
            email,
            password: password.to_owned(),
        });
        Ok(())
    };
    if let Some(list) = config.get("AUTH_USERS") {
        for (position, entry) in list.split(',').map(str::trim).enumerate() {
            if entry.is_empty() {
                continue;
            }
            let Some((email, password)) = entry.split_once(':') else {
                return Err(AuthError::ConfigureUser {
                    key: "AUTH_USERS".to_owned(),
                    reason: format!("entry {} is not email:password", position + 1),
                });
            };
            add("AUTH_USERS".to_owned(), email, password)?;
        }
    }
    pair(config, "ADMIN_EMAIL", "ADMIN_PASSWORD", &mut add)?;
    // Either half of a pair names the user, so a lone USERn_PASSWORD is reported too.
    let mut numbered: Vec<(u32, &str)> = config
        .with_prefix("USER")
        .filter_map(|(rest, _)| {
            rest.strip_suffix("_EMAIL")
                .or_else(|| rest.strip_suffix("_PASSWORD"))
        })
        .filter_map(|n| n.parse().ok().map(|number| (number, n)))
        .collect();
    numbered.sort_unstable();
    numbered.dedup();
    for (_, n) in numbered {
        pair(
            config,
            &format!("USER{n}_EMAIL"),
            &format!("USER{n}_PASSWORD"),
            &mut add,
        )?;
    }
    Ok(users)
}

fn pair(
    config: &Config,
    email_key: &str,
    password_key: &str,
    add: &mut impl FnMut(String, &str, &str) -> Result<(), AuthError>,
) -> Result<(), AuthError> {
    match (config.get(email_key), config.get(password_key)) {
        (None, None) => Ok(()),
        (Some(email), Some(password)) => add(email_key.to_owned(), email, password),
        (Some(_), None) => Err(AuthError::ConfigureUser {
            key: password_key.to_owned(),
            reason: format!("{email_key} is set but {password_key} is missing"),
        }),
        (None, Some(_)) => Err(AuthError::ConfigureUser {
            key: email_key.to_owned(),
            reason: format!("{password_key} is set but {email_key} is missing"),
        }),
    }
}

/// argon2id with 46 MiB and one pass: the first of OWASP's equivalent settings (the crate's
/// default, 19 MiB and two passes, is another). The size matters for memory: glibc serves
/// the buffer with mmap either way, but when it frees one smaller than 32 MiB it raises its
/// mmap threshold to that size, and from then on keeps up to twice as much freed heap
/// resident. A login with 19 MiB left berth serve 19.5 MB larger for good; 46 MiB goes back
/// to the kernel the moment the hash is done.
const MEMORY_KIB: u32 = 47_104;
const PASSES: u32 = 1;

fn argon2() -> Argon2<'static> {
    // The arguments are constants inside argon2's bounds; a unit test builds them.
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// One hash at a time: each holds 46 MiB while it runs, so logins that arrive together (or
/// a flood of wrong passwords from many addresses) wait for each other instead of adding
/// up. A hash takes tens of milliseconds.
static ONE_HASH_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn hash(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|error| AuthError::HashPassword(error.to_string()))?;
    let _turn = ONE_HASH_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AuthError::HashPassword(error.to_string()))
}

/// Whether `password` matches the stored PHC string; a malformed hash never matches. The
/// hash's own parameters are used, so hashes made with older settings still verify.
pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        let _turn = ONE_HASH_AT_A_TIME
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Whether a stored hash was made with other settings than today's, so a successful login
/// should store a fresh one.
pub fn outdated(hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return true;
    };
    let param = |name: &str| parsed.params.get_decimal(name);
    parsed.algorithm.as_str() != "argon2id"
        || param("m") != Some(MEMORY_KIB)
        || param("t") != Some(PASSES)
        || param("p") != Some(1)
}

/// Store the configured users (hashed), or make sure a generated admin exists. Returns the
/// generated password when one was created just now, for the caller to print once.
pub async fn load(config: &Config, store: &Store) -> Result<Option<String>, AuthError> {
    let users = configured(config)?;
    if !users.is_empty() {
        // argon2 is deliberately slow: hash off the async threads.
        let hashed = tokio::task::spawn_blocking(move || {
            users
                .into_iter()
                .map(|user| hash(&user.password).map(|hash| (user.email, hash)))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|error| AuthError::HashPassword(error.to_string()))??;
        store
            .replace_configured_users(&hashed)
            .await
            .map_err(AuthError::StoreUsers)?;
        return Ok(None);
    }
    store
        .remove_configured_users()
        .await
        .map_err(AuthError::StoreUsers)?;
    if store
        .generated_admin()
        .await
        .map_err(AuthError::StoreUsers)?
        .is_some()
    {
        return Ok(None);
    }
    let password: String = rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    let hashed = hash(&password)?;
    store
        .add_generated_admin(GENERATED_ADMIN, &hashed)
        .await
        .map_err(AuthError::StoreUsers)?;
    Ok(Some(password))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let values: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_sources(std::path::PathBuf::from(".updater.env"), values, [])
            .expect("a valid configuration")
    }

    fn emails(pairs: &[(&str, &str)]) -> Result<Vec<String>, AuthError> {
        configured(&config(pairs)).map(|users| users.into_iter().map(|u| u.email).collect())
    }

    #[test]
    fn every_documented_form_is_read_and_emails_are_lowercased() {
        let found = emails(&[
            ("AUTH_USERS", "a@x.io:pw1, B@x.io:pw:with:colons"),
            ("ADMIN_EMAIL", "root@x.io"),
            ("ADMIN_PASSWORD", "pw3"),
            ("USER2_EMAIL", "two@x.io"),
            ("USER2_PASSWORD", "pw4"),
            ("USER10_EMAIL", "ten@x.io"),
            ("USER10_PASSWORD", "pw5"),
        ])
        .unwrap();
        assert_eq!(
            found,
            ["a@x.io", "b@x.io", "root@x.io", "two@x.io", "ten@x.io"]
        );
    }

    #[test]
    fn bad_entries_name_the_key_and_the_problem() {
        for (pairs, key, words) in [
            (vec![("AUTH_USERS", "nobody")], "AUTH_USERS", "entry 1"),
            (vec![("AUTH_USERS", "a@x.io:")], "AUTH_USERS", "empty"),
            (vec![("ADMIN_EMAIL", "a@x.io")], "ADMIN_PASSWORD", "missing"),
            (vec![("USER3_PASSWORD", "pw")], "USER3_EMAIL", "missing"),
            (
                vec![
                    ("AUTH_USERS", "a@x.io:1"),
                    ("ADMIN_EMAIL", "A@x.io"),
                    ("ADMIN_PASSWORD", "2"),
                ],
                "ADMIN_EMAIL",
                "twice",
            ),
        ] {
            let error = emails(&pairs).unwrap_err().to_string();
            assert!(error.contains(key) && error.contains(words), "{error}");
        }
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hashed = hash("correct horse").unwrap();
        assert!(hashed.starts_with("$argon2"));
        assert!(!hashed.contains("correct horse"));
        assert!(verify("correct horse", &hashed));
        assert!(!verify("battery staple", &hashed));
        assert!(!verify("correct horse", "not a hash"));
    }

    #[test]
    fn hashes_use_46_mib_and_one_pass_and_older_settings_still_verify() {
        assert!(Params::new(MEMORY_KIB, PASSES, 1, None).is_ok());
        let hashed = hash("correct horse").unwrap();
        assert!(hashed.contains("$m=47104,t=1,p=1$"), "{hashed}");
        assert!(!outdated(&hashed));

        // What Berth stored before: the argon2 crate's defaults (19 MiB, two passes).
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        let older = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(older.contains("$m=19456,t=2,p=1$"), "{older}");
        assert!(verify("correct horse", &older));
        assert!(outdated(&older));
        assert!(outdated("not a hash"));
    }
}
