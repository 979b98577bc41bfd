//! `Pkcs11Signer`: a signing key that never leaves its token — a hardware security module or
//! an HPKI IC card — reached through the vendor's PKCS#11 module with the `cryptoki` crate.
//!
//! hozon computes the digest (OpenSSL) and builds the CMS exactly as for a key file; only the
//! raw signature value comes from the token (see `mechanism`). Setup checks everything a batch
//! needs before anything is written: the module loads, the token is there, the PIN (read from a
//! file or the environment, never argv, and wiped after login) logs in, the key exists and may
//! sign with a mechanism the token offers, and — by one probe signature verified against the
//! certificate — that the key belongs to the certificate. Each failure has its own code.

mod error;
mod mechanism;
pub mod module;
pub mod objects;
mod pool;

use std::path::Path;

use cryptoki::object::{Attribute, KeyType, ObjectClass};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use openssl::pkey::{Id, PKey, Public};
use openssl::x509::X509;

pub use error::{PinNote, TokenError};
pub use module::{PresentToken, TokenSelector};
pub use objects::KeySelector;

pub use self::objects::KeyObject;
use self::pool::SessionPool;
use super::software::{issuer_path, read_pem_chain, subject_text};
use super::{read_secret, Secret, SignError, SignatureAlg, Signer};
use crate::config::{Config, Pkcs11Config, SignerConfig};

/// A signer whose private key stays on a PKCS#11 token.
pub struct Pkcs11Signer {
    cert: X509,
    chain: Vec<X509>,
    alg: SignatureAlg,
    pool: SessionPool,
    key: String,
}

impl std::fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("subject", &subject_text(&self.cert))
            .field("key", &self.key)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// What a `[signers.NAME] pkcs11 = {…}` section asks for, with paths resolved.
pub struct Pkcs11Request<'a> {
    pub module: &'a Path,
    pub token: TokenSelector,
    pub key: KeySelector,
    /// The user PIN; `None` for a reader with its own PIN pad (protected authentication path).
    pub pin: Option<Secret>,
    /// Certificate and chain from a PEM file instead of the token.
    pub chain_pem: Option<&'a Path>,
    pub rsa_padding: Option<&'a str>,
    /// Most sessions open at once.
    pub sessions: usize,
}

impl Pkcs11Signer {
    /// Build the signer a `[signers.NAME]` section with `pkcs11` describes.
    pub fn from_config(sc: &SignerConfig, cfg: &Config) -> Result<Self, SignError> {
        let p: &Pkcs11Config = sc
            .pkcs11
            .as_ref()
            .ok_or_else(|| SignError::Config("no pkcs11 section".into()))?;
        let module = cfg.resolve(&p.module);
        let chain = sc.chain.as_ref().map(|c| cfg.resolve(c));
        let pin_file = p.pin_file.as_ref().map(|f| cfg.resolve(f));
        let req = Pkcs11Request {
            module: &module,
            token: match (&p.token, p.slot) {
                (Some(l), _) => TokenSelector::Label(l.clone()),
                (None, Some(s)) => TokenSelector::Slot(s),
                (None, None) => return Err(SignError::Config("pkcs11 needs token or slot".into())),
            },
            key: match (&p.key, &p.key_id) {
                (Some(l), _) => KeySelector::Label(l.clone()),
                (None, Some(h)) => KeySelector::Id(
                    hex::decode(h).map_err(|_| SignError::Config(format!("pkcs11.key_id = {h:?} is not hex")))?,
                ),
                (None, None) => return Err(SignError::Config("pkcs11 needs key or key_id".into())),
            },
            pin: read_secret(p.pin_env.as_deref(), pin_file.as_deref())?,
            chain_pem: chain.as_deref(),
            rsa_padding: sc.rsa_padding.as_deref(),
            sessions: p
                .sessions
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        };
        Self::open(req)
    }

    /// Open the token, log in, find key and certificate, and prove they belong together.
    pub fn open(req: Pkcs11Request<'_>) -> Result<Self, SignError> {
        let ctx = module::load(req.module)?;
        let token = module::find(&ctx, req.module, &req.token)?;
        let name = token.name();
        let ck = |op: &'static str| {
            let name = name.clone();
            move |e| SignError::Token(TokenError::from_cryptoki(&name, op, e))
        };
        // A certificate file is read before the token is touched: its errors cost no PIN try.
        let from_file = match req.chain_pem {
            Some(path) => Some(read_chain_pem(path)?),
            None => None,
        };
        let session = ctx.open_ro_session(token.slot).map_err(ck("C_OpenSession"))?;
        login(&ctx, &token, &session, req.pin)?;

        let keys = objects::private_keys(&session).map_err(ck("C_FindObjects"))?;
        let key = pick_key(&name, &keys, &req.key)?;
        let (cert, chain) = match from_file {
            Some(c) => c,
            None => certificate_from_token(&session, &name, &key).map_err(SignError::Token)?,
        };
        let cert_key = cert.public_key()?;
        check_key_matches(&name, &key, &cert_key, &cert, &session)?;
        let alg = SignatureAlg::default_for(&cert_key)?.with_rsa_padding(req.rsa_padding)?;
        if !alg.fits(&cert_key) {
            return Err(SignError::Unsupported(format!("{} does not fit this key", alg.name())));
        }
        check_mechanism(&ctx, &token, alg)?;

        let template = key_template(&key);
        let pool = SessionPool::new(ctx, token.slot, name, template, (session, key.handle), req.sessions);
        let signer = Pkcs11Signer { cert, chain, alg, pool, key: key.describe() };
        signer.prove_possession(&cert_key)?;
        Ok(signer)
    }

    /// One signature over random data, verified with the certificate's public key: the key on
    /// the token is the certificate's, and the mechanism works, before any document is signed.
    fn prove_possession(&self, cert_key: &PKey<Public>) -> Result<(), SignError> {
        let mut probe = [0u8; 32];
        openssl::rand::rand_bytes(&mut probe)?;
        let data = [b"hozon key check ".as_slice(), &probe].concat();
        let sig = self.sign(&data)?;
        if !self.alg.verify(cert_key, &data, &sig)? {
            return Err(SignError::Token(TokenError::CertificateMismatch {
                token: self.pool.token().to_string(),
                detail: format!(
                    "key {} made a signature the certificate {} does not verify: they are not a pair",
                    self.key,
                    subject_text(&self.cert)
                ),
            }));
        }
        Ok(())
    }

    /// Sessions open on the token now.
    pub fn open_sessions(&self) -> usize {
        self.pool.open_sessions()
    }
}

impl Signer for Pkcs11Signer {
    fn certificate(&self) -> &X509 {
        &self.cert
    }
    fn chain(&self) -> &[X509] {
        &self.chain
    }
    fn algorithm(&self) -> SignatureAlg {
        self.alg
    }
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SignError> {
        let digest = self.alg.digest().digest(data)?;
        let (mech, input) = mechanism::prepare(self.alg, &digest)?;
        let raw = self.pool.with_session("C_Sign", |s, key| s.sign(&mech, key, &input))?;
        mechanism::finish(self.alg, raw)
    }
}

/// What one token holds, as `hozon keys list` shows it.
pub struct TokenContents {
    pub token: PresentToken,
    /// Whether private objects were visible (logged in, or the token needs no login).
    pub logged_in: bool,
    pub private_keys: Vec<KeyObject>,
    pub public_keys: Vec<KeyObject>,
    pub certificates: Vec<objects::CertObject>,
}

/// Read a token's keys and certificates; with `pin`, log in first so private keys show too.
pub fn read_token(
    ctx: &cryptoki::context::Pkcs11,
    token: &PresentToken,
    pin: Option<Secret>,
) -> Result<TokenContents, SignError> {
    let name = token.name();
    let ck = |op: &'static str| {
        let name = name.clone();
        move |e| SignError::Token(TokenError::from_cryptoki(&name, op, e))
    };
    let session = ctx.open_ro_session(token.slot).map_err(ck("C_OpenSession"))?;
    let logged_in = match pin {
        Some(pin) => {
            login(ctx, token, &session, Some(pin))?;
            true
        }
        None => !token.info.login_required(),
    };
    Ok(TokenContents {
        token: token.clone(),
        logged_in,
        private_keys: objects::private_keys(&session).map_err(ck("C_FindObjects"))?,
        public_keys: objects::public_keys(&session).map_err(ck("C_FindObjects"))?,
        certificates: objects::certificates(&session).map_err(ck("C_FindObjects"))?,
    })
}

/// Log the session in (all later sessions share the login). The PIN is handed to the module in
/// a buffer that is zeroed when dropped, right after C_Login, as is the `Secret` it came from.
fn login(
    ctx: &cryptoki::context::Pkcs11,
    token: &PresentToken,
    session: &Session,
    pin: Option<Secret>,
) -> Result<(), SignError> {
    let name = token.name();
    if !token.info.login_required() {
        return Ok(());
    }
    if token.info.user_pin_locked() {
        return Err(TokenError::PinLocked { token: name, note: Some(PinNote::LockedBefore) }.into());
    }
    let result = match pin {
        Some(secret) => {
            let auth = AuthPin::from(secret.expose());
            drop(secret);
            session.login(UserType::User, Some(&auth))
        }
        None if token.info.protected_authentication_path() => session.login(UserType::User, None),
        None => {
            return Err(SignError::SecretMissing(format!(
                "token {name} needs its user PIN: set pin_env or pin_file in the signer's pkcs11 section"
            )))
        }
    };
    match result {
        Ok(()) => Ok(()),
        Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(e) => {
            let mut err = TokenError::from_cryptoki(&name, "C_Login", e);
            // What the token says about its retry counter now, so staff stop before a lock-out.
            let after = ctx.get_token_info(token.slot).ok();
            if let TokenError::PinIncorrect { note, .. } = &mut err {
                *note = match &after {
                    Some(i) if i.user_pin_locked() => Some(PinNote::LockedNow),
                    Some(i) if i.user_pin_final_try() => Some(PinNote::FinalTry),
                    Some(i) if i.user_pin_count_low() => Some(PinNote::CountLow),
                    _ => None,
                };
                if after.is_some_and(|i| i.user_pin_locked()) {
                    err = TokenError::PinLocked { token: name, note: Some(PinNote::LockedNow) };
                }
            }
            Err(err.into())
        }
    }
}

fn pick_key(token: &str, keys: &[KeyObject], want: &KeySelector) -> Result<KeyObject, SignError> {
    let present = || keys.iter().map(KeyObject::describe).collect::<Vec<_>>();
    let found: Vec<&KeyObject> = keys.iter().filter(|k| k.matches(want)).collect();
    let key = match found.as_slice() {
        [one] => *one,
        [] => {
            return Err(TokenError::KeyNotFound { token: token.into(), wanted: want.to_string(), present: present() }.into())
        }
        more => {
            return Err(TokenError::KeyNotFound {
                token: token.into(),
                wanted: format!("{want} alone ({} keys carry it; name one by key_id)", more.len()),
                present: present(),
            }
            .into())
        }
    };
    if !key.usable {
        return Err(TokenError::MechanismUnsupported {
            token: token.into(),
            detail: format!("key {} may not sign (CKA_SIGN is false)", key.describe()),
        }
        .into());
    }
    if key.always_authenticate {
        // The PIN would have to stay in memory for every signature of a batch.
        return Err(TokenError::MechanismUnsupported {
            token: token.into(),
            detail: format!(
                "key {} demands the PIN for each signature (CKA_ALWAYS_AUTHENTICATE); hozon logs in once and keeps no PIN, so use the card's batch-signing key",
                key.describe()
            ),
        }
        .into());
    }
    Ok(key.clone())
}

/// The key's certificate among the token's certificate objects (same CKA_ID, else same label)
/// and the issuers of it found there, nearest first.
fn certificate_from_token(session: &Session, token: &str, key: &KeyObject) -> Result<(X509, Vec<X509>), TokenError> {
    let certs = objects::certificates(session).map_err(|e| TokenError::from_cryptoki(token, "C_FindObjects", e))?;
    let parsed: Vec<(&objects::CertObject, X509)> =
        certs.iter().filter_map(|c| X509::from_der(&c.der).ok().map(|x| (c, x))).collect();
    let leaf = parsed
        .iter()
        .find(|(c, _)| !key.id.is_empty() && c.id == key.id)
        .or_else(|| parsed.iter().find(|(c, _)| !key.label.is_empty() && c.label == key.label))
        .map(|(_, x)| x.clone())
        .ok_or_else(|| TokenError::CertificateNotFound { token: token.into(), key: key.describe() })?;
    let others: Vec<X509> = parsed.into_iter().map(|(_, x)| x).collect();
    let chain = issuer_path(&leaf, others);
    Ok((leaf, chain))
}

fn read_chain_pem(path: &Path) -> Result<(X509, Vec<X509>), SignError> {
    let (leaf, rest) = read_pem_chain(path)?;
    let chain = issuer_path(&leaf, rest);
    Ok((leaf, chain))
}

/// Cheap comparisons first (key type, RSA modulus, EC curve and point), with a message that
/// says what differs; the probe signature then settles it for every kind of key.
fn check_key_matches(
    token: &str,
    key: &KeyObject,
    cert_key: &PKey<Public>,
    cert: &X509,
    session: &Session,
) -> Result<(), SignError> {
    let mismatch = |what: String| -> SignError {
        TokenError::CertificateMismatch {
            token: token.into(),
            detail: format!("key {} does not belong to the certificate {}: {what}", key.describe(), subject_text(cert)),
        }
        .into()
    };
    let token_type = key.key_type.ok_or_else(|| mismatch("the key has no CKA_KEY_TYPE".into()))?;
    match cert_key.id() {
        Id::RSA | Id::RSA_PSS => {
            if token_type != KeyType::RSA {
                return Err(mismatch(format!("the key is {}, the certificate's RSA", key.kind())));
            }
            if let Some(m) = &key.modulus {
                let cert_n = cert_key.rsa()?.n().to_vec();
                if strip_zeros(m) != strip_zeros(&cert_n) {
                    return Err(mismatch("the RSA moduli differ".into()));
                }
            }
        }
        Id::EC => {
            if token_type != KeyType::EC {
                return Err(mismatch(format!("the key is {}, the certificate's EC", key.kind())));
            }
            let ec = cert_key.ec_key()?;
            let cert_curve = objects::nid_curve_name(ec.group().curve_name());
            if let (Some(p), Some(c)) = (&key.ec_params, cert_curve) {
                if objects::curve_name(p) != c {
                    return Err(mismatch(format!(
                        "the key is on curve {}, the certificate's on {c}",
                        objects::curve_name(p)
                    )));
                }
            }
            // The private key object rarely carries the point; its public twin does.
            let point = objects::public_keys(session)
                .ok()
                .and_then(|ps| ps.into_iter().find(|p| !key.id.is_empty() && p.id == key.id))
                .and_then(|p| p.ec_point);
            if let Some(point) = point {
                let mut ctx = openssl::bn::BigNumContext::new()?;
                let cert_point =
                    ec.public_key().to_bytes(ec.group(), openssl::ec::PointConversionForm::UNCOMPRESSED, &mut ctx)?;
                if !point.ends_with(&cert_point) {
                    return Err(mismatch("the public points differ".into()));
                }
            }
        }
        other => return Err(SignError::Unsupported(format!("certificate key type {other:?}"))),
    }
    Ok(())
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let skip = b.iter().take_while(|x| **x == 0).count();
    &b[skip..]
}

/// The token must offer the mechanism for signing; otherwise say which it offers.
fn check_mechanism(ctx: &cryptoki::context::Pkcs11, token: &PresentToken, alg: SignatureAlg) -> Result<(), SignError> {
    let want = mechanism::mechanism_type(alg);
    let list = ctx
        .get_mechanism_list(token.slot)
        .map_err(|e| TokenError::from_cryptoki(&token.name(), "C_GetMechanismList", e))?;
    let signs = |m| ctx.get_mechanism_info(token.slot, m).is_ok_and(|i| i.sign());
    if list.contains(&want) && signs(want) {
        return Ok(());
    }
    let offered: Vec<String> = list
        .iter()
        .filter(|m| {
            [cryptoki::mechanism::MechanismType::RSA_PKCS, cryptoki::mechanism::MechanismType::RSA_PKCS_PSS, cryptoki::mechanism::MechanismType::ECDSA]
                .contains(m)
                && signs(**m)
        })
        .map(|m| m.to_string())
        .collect();
    Err(TokenError::MechanismUnsupported {
        token: token.name(),
        detail: format!(
            "{} needs {want}, which the token does not offer for signing (it offers: {})",
            alg.name(),
            if offered.is_empty() { "none of CKM_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_ECDSA".into() } else { offered.join(", ") }
        ),
    }
    .into())
}

/// How each new session finds the key again.
fn key_template(key: &KeyObject) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
    if !key.id.is_empty() {
        t.push(Attribute::Id(key.id.clone()));
    }
    if !key.label.is_empty() {
        t.push(Attribute::Label(key.label.as_bytes().to_vec()));
    }
    t
}
