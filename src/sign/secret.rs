//! Passwords and private files: a `Secret` that never prints, where it is read from
//! (an environment variable or a file, never argv) and the permission check on key files.

use std::fmt;
use std::path::Path;

use super::SignError;

/// A password. Its Debug and Display never show the value; it is wiped on drop.
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The value, for handing to OpenSSL only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Best effort: overwrite the bytes before the allocation is freed.
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&bytes);
    }
}

/// Refuse a key, PKCS#12 or password file that group or others may read (unix modes).
pub fn check_private_file(path: &Path) -> Result<(), SignError> {
    let meta = std::fs::metadata(path).map_err(|e| SignError::Unreadable {
        path: path.to_path_buf(),
        source: e,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(SignError::KeyPermissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(())
}

/// Read a password from the environment variable `env` (if named) or else from `file`
/// (permission-checked; one trailing newline is dropped). `None` when neither is configured.
pub fn read_secret(env: Option<&str>, file: Option<&Path>) -> Result<Option<Secret>, SignError> {
    if let Some(name) = env {
        return match std::env::var(name) {
            Ok(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
            _ => Err(SignError::SecretMissing(format!(
                "environment variable {name} is not set"
            ))),
        };
    }
    let Some(path) = file else { return Ok(None) };
    check_private_file(path)?;
    let text = std::fs::read_to_string(path).map_err(|e| SignError::Unreadable {
        path: path.to_path_buf(),
        source: e,
    })?;
    let trimmed = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    Ok(Some(Secret::new(trimmed)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn write_mode(dir: &Path, name: &str, text: &str, mode: u32) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn debug_never_shows_the_password() {
        let s = Secret::new("秘密のパスワード");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "秘密のパスワード");
    }

    #[test]
    fn group_readable_files_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let open = write_mode(d.path(), "pw-open.txt", "hunter2\n", 0o640);
        let e = read_secret(None, Some(&open)).unwrap_err();
        assert_eq!(e.code(), "key-permissions");
        assert!(!e.to_string().contains("hunter2"));
        let world = write_mode(d.path(), "key.pem", "x", 0o604);
        assert_eq!(check_private_file(&world).unwrap_err().code(), "key-permissions");
        let ok = write_mode(d.path(), "pw.txt", "パス\r\n", 0o600);
        assert_eq!(read_secret(None, Some(&ok)).unwrap().unwrap().expose(), "パス");
    }

    #[test]
    fn env_wins_and_missing_env_is_an_error() {
        std::env::set_var("HOZON_TEST_SECRET_A", "from-env");
        let d = tempfile::tempdir().unwrap();
        let f = write_mode(d.path(), "pw.txt", "from-file", 0o600);
        let s = read_secret(Some("HOZON_TEST_SECRET_A"), Some(&f)).unwrap().unwrap();
        assert_eq!(s.expose(), "from-env");
        let e = read_secret(Some("HOZON_TEST_SECRET_UNSET_Z"), None).unwrap_err();
        assert_eq!(e.code(), "secret-missing");
        assert!(read_secret(None, None).unwrap().is_none());
    }
}
