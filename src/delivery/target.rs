//! Which addresses a callback may go to. Private, loopback, link-local, unique-local,
//! unspecified, broadcast, multicast, CGNAT, reserved and cloud-metadata addresses are refused
//! unless the operator allows private targets. The check runs on the address actually
//! connected to: a resolver that filters what DNS returns, and a check of IP-literal URLs
//! (which never reach a resolver).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why an address is not a callback target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Private,
    Loopback,
    LinkLocal,
    UniqueLocal,
    Unspecified,
    Broadcast,
    Multicast,
    Cgnat,
    Reserved,
    CloudMetadata,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Loopback => "loopback",
            Self::LinkLocal => "link-local",
            Self::UniqueLocal => "unique-local",
            Self::Unspecified => "unspecified",
            Self::Broadcast => "broadcast",
            Self::Multicast => "multicast",
            Self::Cgnat => "CGNAT",
            Self::Reserved => "reserved",
            Self::CloudMetadata => "cloud metadata",
        }
    }
}

/// A callback target refused by the address policy.
#[derive(Debug, thiserror::Error)]
#[error("address {addr} refused ({})", reason.as_str())]
pub struct RefusedAddress {
    pub addr: IpAddr,
    pub reason: Refusal,
}

/// A host name that resolved to nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("DNS lookup of {host} failed")]
    Failed {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("DNS lookup of {host} returned no address")]
    Empty { host: String },
}

/// Why `ip` may not be a callback target, if it may not.
pub fn refusal(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => refusal_v6(v6),
    }
}

fn refusal_v4(ip: Ipv4Addr) -> Option<Refusal> {
    let [a, b, c, _] = ip.octets();
    // 169.254.169.254 is the metadata service of most clouds; 100.100.100.200 is Alibaba's.
    if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
        return Some(Refusal::CloudMetadata);
    }
    match (a, b, c) {
        (0, _, _) => Some(Refusal::Unspecified),
        (127, _, _) => Some(Refusal::Loopback),
        (10, _, _) | (192, 168, _) => Some(Refusal::Private),
        (172, 16..=31, _) => Some(Refusal::Private),
        (169, 254, _) => Some(Refusal::LinkLocal),
        (100, 64..=127, _) => Some(Refusal::Cgnat),
        (192, 0, 0) | (198, 18..=19, _) => Some(Refusal::Reserved),
        _ if ip.is_broadcast() => Some(Refusal::Broadcast),
        (224..=239, _, _) => Some(Refusal::Multicast),
        (240..=255, _, _) => Some(Refusal::Reserved),
        _ => None,
    }
}

fn refusal_v6(ip: Ipv6Addr) -> Option<Refusal> {
    let segments = ip.segments();
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some(Refusal::CloudMetadata);
    }
    if let Some(v4) = embedded_v4(ip) {
        return refusal_v4(v4);
    }
    match segments[0] {
        _ if ip.is_unspecified() => Some(Refusal::Unspecified),
        _ if ip.is_loopback() => Some(Refusal::Loopback),
        0xfc00..=0xfdff => Some(Refusal::UniqueLocal),
        0xfe80..=0xfebf => Some(Refusal::LinkLocal),
        0xfec0..=0xfeff => Some(Refusal::Private),
        0xff00..=0xffff => Some(Refusal::Multicast),
        _ => None,
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`)
/// or NAT64 (`64:ff9b::a.b.c.d`) address, which reach that IPv4 host.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let mapped = s[..5] == [0; 5] && s[5] == 0xffff;
    let compatible = s[..6] == [0; 6] && !ip.is_unspecified() && !ip.is_loopback();
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    (mapped || compatible || nat64).then_some(tail)
}

/// The address policy, shared by the resolver and the IP-literal check.
#[derive(Clone, Copy, Debug)]
pub struct TargetPolicy {
    pub allow_private: bool,
}

impl TargetPolicy {
    /// Refuses `ip` unless it is a public address or private targets are allowed.
    pub fn check(&self, ip: IpAddr) -> Result<(), RefusedAddress> {
        match refusal(ip) {
            Some(reason) if !self.allow_private => Err(RefusedAddress { addr: ip, reason }),
            _ => Ok(()),
        }
    }

    /// The addresses of `addrs` that may be connected to; when there are none, why.
    fn filter(&self, host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, BoxError> {
        let mut refused = None;
        let allowed: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|addr| match self.check(addr.ip()) {
                Ok(()) => true,
                Err(error) => {
                    refused.get_or_insert(error);
                    false
                }
            })
            .collect();
        match (allowed.is_empty(), refused) {
            (false, _) => Ok(allowed),
            (true, Some(error)) => Err(Box::new(error)),
            (true, None) => Err(Box::new(LookupError::Empty {
                host: host.to_string(),
            })),
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Resolve for TargetPolicy {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = *self;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|source| LookupError::Failed {
                    host: host.clone(),
                    source,
                })?;
            let allowed = policy.filter(&host, found.collect())?;
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(text: &str) -> Option<&'static str> {
        refusal(text.parse().expect("an address")).map(Refusal::as_str)
    }

    #[test]
    fn refuses_every_non_public_range() {
        let cases = [
            ("10.0.0.1", "private"),
            ("172.16.5.4", "private"),
            ("192.168.1.1", "private"),
            ("127.0.0.1", "loopback"),
            ("169.254.1.1", "link-local"),
            ("169.254.169.254", "cloud metadata"),
            ("100.100.100.200", "cloud metadata"),
            ("100.64.0.1", "CGNAT"),
            ("0.0.0.0", "unspecified"),
            ("255.255.255.255", "broadcast"),
            ("224.0.0.1", "multicast"),
            ("240.0.0.1", "reserved"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("fd12:3456::1", "unique-local"),
            ("fd00:ec2::254", "cloud metadata"),
            ("ff02::1", "multicast"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "cloud metadata"),
        ];
        for (addr, reason) in cases {
            assert_eq!(why(addr), Some(reason), "{addr}");
        }
    }

    #[test]
    fn accepts_public_addresses() {
        for addr in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(why(addr), None, "{addr}");
        }
    }

    #[test]
    fn the_operator_may_allow_private_targets() {
        let strict = TargetPolicy {
            allow_private: false,
        };
        let lenient = TargetPolicy {
            allow_private: true,
        };
        let ip: IpAddr = "10.0.0.1".parse().expect("an address");

        let refused = strict.check(ip).expect_err("refused");
        assert_eq!(refused.to_string(), "address 10.0.0.1 refused (private)");
        assert!(lenient.check(ip).is_ok());
    }

    #[test]
    fn resolved_addresses_are_filtered_and_all_refused_is_an_error() {
        let strict = TargetPolicy {
            allow_private: false,
        };
        let public: SocketAddr = "8.8.8.8:0".parse().expect("addr");
        let private: SocketAddr = "10.1.2.3:0".parse().expect("addr");

        let kept = strict.filter("h", vec![private, public]).expect("one left");
        let none = strict.filter("h", vec![private]).expect_err("all refused");

        assert_eq!(kept, [public]);
        assert_eq!(none.to_string(), "address 10.1.2.3 refused (private)");
    }
}
