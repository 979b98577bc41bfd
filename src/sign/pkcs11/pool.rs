//! A bounded pool of sessions on one logged-in token, shared by the signing workers.
//!
//! PKCS#11 sessions are not to be used by two threads at once, and all sessions an application
//! has with a token share one login (PKCS#11 v2.40 §5.6), which ends when the last of them
//! closes. So the pool opens sessions as workers need them, up to `max`, keeps every one open
//! for the rest of the run (the login stays, and the PIN is needed only once), and a worker
//! holds a session only for one C_Sign. Each session finds the key once: object handles need
//! not be the same in every session.
//!
//! When the token goes away or locks mid-run, the first error is kept and every later request
//! fails at once with it, so the rest of a batch is reported with the same clear code without
//! asking a token that is not there.

use std::sync::{Condvar, Mutex, OnceLock};

use cryptoki::context::Pkcs11;
use cryptoki::error::Error as CkError;
use cryptoki::object::{Attribute, ObjectHandle};
use cryptoki::session::Session;
use cryptoki::slot::Slot;

use super::TokenError;

struct Idle {
    sessions: Vec<(Session, ObjectHandle)>,
    /// Sessions open, idle or lent out.
    open: usize,
}

pub struct SessionPool {
    ctx: Pkcs11,
    slot: Slot,
    token: String,
    /// Finds the private key in a new session.
    key_template: Vec<Attribute>,
    max: usize,
    idle: Mutex<Idle>,
    returned: Condvar,
    fault: OnceLock<TokenError>,
}

impl SessionPool {
    /// A pool around the session that logged in and the key handle it found.
    pub fn new(
        ctx: Pkcs11,
        slot: Slot,
        token: String,
        key_template: Vec<Attribute>,
        first: (Session, ObjectHandle),
        max: usize,
    ) -> SessionPool {
        SessionPool {
            ctx,
            slot,
            token,
            key_template,
            max: max.max(1),
            idle: Mutex::new(Idle { sessions: vec![first], open: 1 }),
            returned: Condvar::new(),
            fault: OnceLock::new(),
        }
    }

    /// Run `op` with a session and the key's handle in it.
    pub fn with_session<R>(
        &self,
        operation: &'static str,
        op: impl FnOnce(&Session, ObjectHandle) -> Result<R, CkError>,
    ) -> Result<R, TokenError> {
        if let Some(f) = self.fault.get() {
            return Err(f.clone());
        }
        let (session, key) = self.take()?;
        match op(&session, key) {
            Ok(r) => {
                self.give_back(session, key);
                Ok(r)
            }
            Err(e) => {
                let err = TokenError::from_cryptoki(&self.token, operation, e);
                if err.ends_the_run() {
                    let _ = self.fault.set(err.clone());
                    self.discard(session);
                } else {
                    // Still a working session (and maybe the one that holds the login).
                    self.give_back(session, key);
                }
                Err(err)
            }
        }
    }

    fn take(&self) -> Result<(Session, ObjectHandle), TokenError> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(s) = idle.sessions.pop() {
                return Ok(s);
            }
            if idle.open < self.max {
                idle.open += 1;
                drop(idle);
                let opened = self.open_one();
                if opened.is_err() {
                    self.idle.lock().unwrap_or_else(|p| p.into_inner()).open -= 1;
                    self.returned.notify_all();
                }
                return opened;
            }
            if let Some(f) = self.fault.get() {
                return Err(f.clone());
            }
            idle = self.returned.wait(idle).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn open_one(&self) -> Result<(Session, ObjectHandle), TokenError> {
        let fail = |op, e| {
            let err = TokenError::from_cryptoki(&self.token, op, e);
            if err.ends_the_run() {
                let _ = self.fault.set(err.clone());
            }
            err
        };
        let session = self.ctx.open_ro_session(self.slot).map_err(|e| fail("C_OpenSession", e))?;
        let handles = session.find_objects(&self.key_template).map_err(|e| fail("C_FindObjects", e))?;
        match handles.first() {
            Some(h) => Ok((session, *h)),
            None => {
                let err = TokenError::Removed {
                    token: self.token.clone(),
                    detail: "the key is no longer visible in a new session (logged out?)".into(),
                };
                let _ = self.fault.set(err.clone());
                Err(err)
            }
        }
    }

    fn give_back(&self, session: Session, key: ObjectHandle) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).sessions.push((session, key));
        self.returned.notify_one();
    }

    fn discard(&self, session: Session) {
        drop(session);
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).open -= 1;
        // Waiters see the fault now.
        self.returned.notify_all();
    }

    /// How messages name the token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Sessions open now (for tests and diagnostics).
    pub fn open_sessions(&self) -> usize {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).open
    }
}
