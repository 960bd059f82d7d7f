//! The home network: the names this server answers to (against DNS
//! rebinding, see `web::guard`), and the address a phone on the same
//! network can open: what the QR code on the TV carries. `.local` names
//! are unreliable on Android, so a name in `Host:` is replaced by the
//! server's LAN IPv4 address.

use std::net::{IpAddr, Ipv4Addr};

/// Interface names of container and VM bridges and tunnels: their
/// addresses are not on the home network.
const NOT_THE_LAN: &[&str] = &[
    "docker",
    "br-",
    "virbr",
    "veth",
    "lxc",
    "lxd",
    "cni",
    "flannel",
    "podman",
    "vmnet",
    "vboxnet",
    "tun",
    "tap",
    "wg",
    "zt",
    "tailscale",
];

/// One IPv4 address of an interface that is up.
#[derive(Debug, Clone)]
pub struct Interface {
    pub name: String,
    pub loopback: bool,
    pub address: Ipv4Addr,
}

/// The machine's interfaces that are up, with their IPv4 addresses.
pub fn interfaces() -> Vec<Interface> {
    use nix::net::if_::InterfaceFlags;
    let Ok(all) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    all.filter(|i| i.flags.contains(InterfaceFlags::IFF_UP))
        .filter_map(|i| {
            let address = i.address.as_ref()?.as_sockaddr_in()?.ip();
            Some(Interface {
                loopback: i.flags.contains(InterfaceFlags::IFF_LOOPBACK),
                name: i.interface_name,
                address,
            })
        })
        .collect()
}

/// The LAN address among these: not loopback, not a bridge or tunnel; a
/// private (RFC 1918) one first.
pub fn lan_address(interfaces: &[Interface]) -> Option<Ipv4Addr> {
    let candidates = interfaces.iter().filter(|i| {
        !i.loopback
            && !i.address.is_loopback()
            && !i.address.is_link_local()
            && !NOT_THE_LAN.iter().any(|p| i.name.starts_with(p))
    });
    candidates
        .clone()
        .find(|i| i.address.is_private())
        .or_else(|| candidates.clone().next())
        .map(|i| i.address)
}

/// The name in a `Host` value, without its port.
pub fn host_name(host: &str) -> &str {
    let host = host.trim();
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(h, _)| &host[..h.len() + 1]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// The upload page's address for a phone, from the `Host:` the TV used
/// and this machine's LAN address now (read off the async workers).
pub async fn upload_url_now(host_header: Option<&str>) -> String {
    let lan = crate::fsutil::blocking(|| lan_address(&interfaces()))
        .await
        .flatten();
    upload_url(host_header, lan)
}

/// The upload page's address for a phone: the host the browser used when
/// it is an IP address; otherwise `lan` with the port the browser used
/// (none behind nginx, which is port 80).
pub fn upload_url(host_header: Option<&str>, lan: Option<Ipv4Addr>) -> String {
    let host = host_header.unwrap_or("").trim();
    let (name, port) = split_host(host);
    let literal = name
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok();
    let address = match (literal, lan) {
        (true, _) | (false, None) => host.to_string(),
        (false, Some(ip)) => match port {
            Some(p) => format!("{ip}:{p}"),
            None => ip.to_string(),
        },
    };
    format!("http://{address}/upload")
}

/// `name[:port]`, the brackets of an IPv6 literal kept with the name.
fn split_host(host: &str) -> (&str, Option<&str>) {
    if host.starts_with('[') {
        return match host.rsplit_once("]:") {
            Some((name, port)) => (&host[..name.len() + 1], Some(port)),
            None => (host, None),
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => (name, Some(port)),
        _ => (host, None),
    }
}

/// The `Host` names accepted besides IP addresses, `localhost` and
/// `*.local`: this machine's name and `--allowed-hosts`.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    pub hostname: Option<String>,
    /// Exact names, or `*.example.org` for a domain and its subdomains.
    pub extra: Vec<String>,
}

impl AllowedHosts {
    /// This machine's name, and the given list.
    pub fn new(extra: Vec<String>) -> AllowedHosts {
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty());
        AllowedHosts { hostname, extra }
    }

    pub fn allows(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let ip = name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok();
        ip || name == "localhost"
            || name.ends_with(".localhost")
            || name.ends_with(".local")
            || self.hostname.as_deref() == Some(name.as_str())
            || self.extra.iter().any(|a| {
                let a = a.to_ascii_lowercase();
                match a.strip_prefix("*.") {
                    Some(domain) => name == domain || name.ends_with(&format!(".{domain}")),
                    None => a == name,
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(name: &str, ip: [u8; 4]) -> Interface {
        Interface {
            name: name.into(),
            loopback: name == "lo",
            address: Ipv4Addr::from(ip),
        }
    }

    #[test]
    fn the_lan_address_is_not_loopback_nor_a_bridge() {
        let all = [
            iface("lo", [127, 0, 0, 1]),
            iface("docker0", [172, 17, 0, 1]),
            iface("wlan0", [192, 168, 1, 20]),
        ];
        assert_eq!(lan_address(&all), Some(Ipv4Addr::new(192, 168, 1, 20)));
        let odd = [iface("lo", [127, 0, 0, 1]), iface("eth0", [192, 0, 2, 2])];
        assert_eq!(lan_address(&odd), Some(Ipv4Addr::new(192, 0, 2, 2)));
        assert_eq!(lan_address(&[iface("lo", [127, 0, 0, 1])]), None);
    }

    #[test]
    fn the_url_carries_an_address_a_phone_can_open() {
        let lan = Some(Ipv4Addr::new(192, 168, 1, 20));
        assert_eq!(
            upload_url(Some("192.168.1.20:8080"), lan),
            "http://192.168.1.20:8080/upload"
        );
        assert_eq!(
            upload_url(Some("raspberrypi.local"), lan),
            "http://192.168.1.20/upload"
        );
        assert_eq!(
            upload_url(Some("pi.lan:8080"), lan),
            "http://192.168.1.20:8080/upload"
        );
        assert_eq!(
            upload_url(Some("localhost:8080"), lan),
            "http://192.168.1.20:8080/upload"
        );
        assert_eq!(
            upload_url(Some("127.0.0.1:8080"), lan),
            "http://127.0.0.1:8080/upload"
        );
        assert_eq!(
            upload_url(Some("[fd00::2]:8080"), lan),
            "http://[fd00::2]:8080/upload"
        );
        assert_eq!(upload_url(Some("pi.lan"), None), "http://pi.lan/upload");
    }
}
