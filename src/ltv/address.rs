//! Where revocation and AIA fetches may go. A certificate names its CRL and OCSP URLs, and a
//! hostile one can name anything: an admin page on the machine itself, a host inside the
//! hospital, the cloud metadata service. So only http and https are fetched, and only from
//! public addresses, unless `revocation.allow_private_addresses` says the hospital runs its
//! own responders, or the URL is on a trusted origin (the demo PKI's `base_url`, which
//! `hozon tsa serve` answers on loopback). Link-local, unspecified, multicast, broadcast and
//! reserved addresses are never fetched from, whatever the config (169.254.169.254 is the
//! metadata service, never a CA).
//!
//! A name is resolved and all its addresses checked before the request; the HTTP client's own
//! resolver (`GuardedResolver`) filters the same names again when it connects, so a DNS answer
//! that changes in between (rebinding) cannot lead it elsewhere.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::RevError;

/// How far an address may be fetched from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// A global address.
    Public,
    /// Loopback, RFC 1918, unique-local, shared (CGNAT), documentation and benchmarking
    /// ranges: only with `allow_private_addresses` or a trusted origin.
    Private,
    /// Link-local, unspecified, multicast, broadcast, reserved: never.
    Never,
}

pub fn classify(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Reach {
    let o = ip.octets();
    if o[0] == 0 || ip.is_link_local() || ip.is_multicast() || ip.is_broadcast() || o[0] >= 240 {
        Reach::Never
    } else if ip.is_loopback()
        || ip.is_private()
        || ip.is_documentation()
        || (o[0] == 100 && o[1] & 0xc0 == 64)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && o[1] & 0xfe == 18)
    {
        Reach::Private
    } else {
        Reach::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> Reach {
    let s = ip.segments();
    // Addresses that carry an IPv4 address are judged by it: mapped (::ffff:a.b.c.d),
    // compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if ip.is_unspecified() || ip.is_multicast() || s[0] & 0xffc0 == 0xfe80 {
        Reach::Never
    } else if ip.is_loopback()
        || s[0] & 0xfe00 == 0xfc00
        || s[0] & 0xffc0 == 0xfec0
        || (s[0] == 0x2001 && s[1] == 0x0db8)
    {
        Reach::Private
    } else if s[..6] == [0; 6] || (s[0] == 0x0064 && s[1] == 0xff9b) {
        classify_v4(embedded(s[6], s[7]))
    } else if s[0] == 0x2002 {
        classify_v4(embedded(s[1], s[2]))
    } else {
        Reach::Public
    }
}

/// The error a refused DNS answer carries through the HTTP client (found again by `refusal_in`).
#[derive(Debug)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

/// The address policy's refusal somewhere in an error's chain of causes.
pub fn refusal_in(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(r) = c.downcast_ref::<Refusal>() {
            return Some(r.0.clone());
        }
        cur = c.source();
    }
    None
}

/// Which URLs may be fetched.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allow_private: bool,
    /// Origins (`scheme://host:port`) allowed on private addresses.
    trusted_origins: Vec<String>,
    /// Host names checked for fetching: the resolver filters their answers (and no others:
    /// a proxy's name, say, is the operator's choice).
    targets: Arc<Mutex<HashSet<String>>>,
}

fn origin_of(url: &reqwest::Url) -> Option<String> {
    Some(format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str()?.to_ascii_lowercase(),
        url.port_or_known_default()?
    ))
}

impl AddressPolicy {
    /// `allow_private`: `revocation.allow_private_addresses`.
    pub fn new(allow_private: bool) -> AddressPolicy {
        AddressPolicy {
            allow_private,
            ..AddressPolicy::default()
        }
    }

    /// Allow private addresses for URLs on `base_url`'s origin (scheme, host and port).
    pub fn trust_origin(&mut self, base_url: &str) {
        if let Some(o) = reqwest::Url::parse(base_url).ok().as_ref().and_then(origin_of) {
            self.trusted_origins.push(o);
        }
    }

    fn trusted_host(&self, host: &str) -> bool {
        self.trusted_origins
            .iter()
            .filter_map(|o| reqwest::Url::parse(o).ok())
            .any(|u| u.host_str().is_some_and(|h| h.eq_ignore_ascii_case(host)))
    }

    fn allows(&self, ip: IpAddr) -> bool {
        match classify(ip) {
            Reach::Public => true,
            Reach::Private => self.allow_private,
            Reach::Never => false,
        }
    }

    fn why_not(&self, ip: IpAddr) -> String {
        match classify(ip) {
            Reach::Never => format!("{ip} is a link-local, unspecified, multicast or reserved address"),
            _ => format!(
                "{ip} is a private address (an in-hospital responder needs revocation.allow_private_addresses = true)"
            ),
        }
    }

    /// May `url` be fetched? Names are resolved (within `within`) and every address must be
    /// allowed. Nothing is sent.
    pub fn check(&self, url: &str, within: Duration) -> Result<(), RevError> {
        let refused = |reason: String| RevError::AddressRefused {
            url: url.to_string(),
            reason,
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| refused(format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(RevError::SchemeRefused { url: url.to_string() });
        }
        let host = parsed.host_str().ok_or_else(|| refused("no host".into()))?;
        if origin_of(&parsed).is_some_and(|o| self.trusted_origins.contains(&o)) {
            return Ok(());
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => {
                self.targets
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(bare.to_ascii_lowercase());
                if self.allow_private {
                    // Every class but `Never` is allowed: the resolver drops those when the
                    // client connects, and a name the proxy alone can resolve still works.
                    return Ok(());
                }
                let port = parsed.port_or_known_default().unwrap_or(80);
                resolve(bare, port, within)
                    .map_err(|e| refused(format!("cannot resolve {bare} to check its address: {e}")))?
            }
        };
        match addrs.iter().find(|ip| !self.allows(**ip)) {
            Some(ip) => Err(refused(self.why_not(*ip))),
            None => Ok(()),
        }
    }

    /// The HTTP client's resolver, enforcing this policy when it connects.
    pub fn resolver(&self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver { policy: self.clone() })
    }
}

/// `host`'s addresses, waiting at most `within` (the system resolver has no timeout of its own;
/// a lookup that outlives it finishes on its thread and is dropped).
fn resolve(host: &str, port: u16, within: Duration) -> Result<Vec<IpAddr>, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let name = host.to_string();
    std::thread::Builder::new()
        .spawn(move || {
            let r = (name.as_str(), port)
                .to_socket_addrs()
                .map(|a| a.map(|s| s.ip()).collect::<Vec<_>>());
            let _ = tx.send(r);
        })
        .map_err(|e| e.to_string())?;
    match rx.recv_timeout(within) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err("no addresses".into()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}

/// DNS for the revocation client: the system resolver (on tokio's blocking pool), with the
/// answers for fetch targets filtered by the policy.
pub struct GuardedResolver {
    policy: AddressPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            let lookup = host.clone();
            let found: Vec<SocketAddr> =
                tokio::task::spawn_blocking(move || (lookup.as_str(), 0u16).to_socket_addrs().map(Iterator::collect))
                    .await??;
            let guarded =
                policy.targets.lock().unwrap_or_else(|p| p.into_inner()).contains(&host) && !policy.trusted_host(&host);
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| !guarded || policy.allows(a.ip()))
                .collect();
            match (kept.is_empty(), found.first()) {
                (true, Some(a)) => {
                    Err(Box::new(Refusal(policy.why_not(a.ip()))) as Box<dyn std::error::Error + Send + Sync>)
                }
                _ => Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_are_classified() {
        for a in ["8.8.8.8", "203.0.114.1", "2404:6800:4004::200e", "2002:0808:0808::1"] {
            assert_eq!(classify(ip(a)), Reach::Public, "{a}");
        }
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "192.0.2.1",
            "::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::c0a8:0101",
            "2002:c0a8:0101::1",
        ] {
            assert_eq!(classify(ip(a)), Reach::Private, "{a}");
        }
        for a in [
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::",
            "fe80::1",
            "ff02::1",
            "::ffff:169.254.169.254",
        ] {
            assert_eq!(classify(ip(a)), Reach::Never, "{a}");
        }
    }

    #[test]
    fn urls_are_checked_before_anything_is_sent() {
        let t = Duration::from_secs(2);
        let strict = AddressPolicy::new(false);
        let code = |p: &AddressPolicy, u: &str| p.check(u, t).map_err(|e| e.code());
        assert_eq!(
            code(&strict, "http://127.0.0.1:8318/crl/root.crl"),
            Err("rev-address-refused")
        );
        assert_eq!(code(&strict, "http://[::1]/x.crl"), Err("rev-address-refused"));
        assert_eq!(
            code(&strict, "http://169.254.169.254/latest/meta-data/"),
            Err("rev-address-refused")
        );
        assert_eq!(code(&strict, "http://localhost/x.crl"), Err("rev-address-refused"));
        assert_eq!(code(&strict, "ldap://ldap.example.jp/cn=CA"), Err("rev-scheme-refused"));
        assert_eq!(code(&strict, "file:///etc/passwd"), Err("rev-scheme-refused"));
        assert_eq!(code(&strict, "http://93.184.216.34/ca.crl"), Ok(()));
        let e = strict.check("http://10.0.0.5/ca.crl", t).unwrap_err().to_string();
        assert!(e.contains("allow_private_addresses"), "{e}");

        let hospital = AddressPolicy::new(true);
        assert_eq!(code(&hospital, "http://10.0.0.5/ca.crl"), Ok(()));
        assert_eq!(code(&hospital, "http://127.0.0.1:9/ca.crl"), Ok(()));
        assert_eq!(
            code(&hospital, "http://169.254.169.254/latest/"),
            Err("rev-address-refused")
        );
        assert_eq!(code(&hospital, "http://[fe80::1]/x"), Err("rev-address-refused"));

        let mut demo = AddressPolicy::new(false);
        demo.trust_origin("http://127.0.0.1:8318");
        assert_eq!(code(&demo, "http://127.0.0.1:8318/crl/root.crl"), Ok(()));
        assert_eq!(
            code(&demo, "http://127.0.0.1:8319/crl/root.crl"),
            Err("rev-address-refused")
        );
        assert_eq!(code(&demo, "https://127.0.0.1:8318/x"), Err("rev-address-refused"));
    }
}
