//! The addresses a hub is made with, checked before anything is made: where it listens, the
//! names its certificate is for, and the address its tablets are given.

/// What is wrong with an address given to `init`, said before anything is made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Address {
    #[error("--listen {0:?} is not an address and port to listen on, such as 0.0.0.0:8443")]
    Listen(String),
    #[error("--host {0:?} is not a DNS name or an IP address the hub's certificate can name")]
    Host(String),
    #[error("--url {0:?} is not an https:// address with a host, such as https://hub.example:8443")]
    Url(String),
}

/// Checks the addresses `init` is given: where it listens, the names its certificate is for,
/// and the address tablets are given.
pub fn check_addresses(hosts: &[String], listen: &str, url: &str) -> Result<(), Address> {
    let dns = |h: &str| {
        h.len() <= 253
            && h.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    // An address and port, or a name and port (serve resolves it).
    let named = listen.rsplit_once(':').is_some_and(|(h, p)| dns(h) && p.parse::<u16>().is_ok());
    if listen.parse::<std::net::SocketAddr>().is_err() && !named {
        return Err(Address::Listen(listen.to_string()));
    }
    if let Some(bad) = hosts.iter().find(|h| h.parse::<std::net::IpAddr>().is_err() && !dns(h)) {
        return Err(Address::Host(bad.clone()));
    }
    let authority = url.strip_prefix("https://").map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
    let url_host = authority.and_then(|a| {
        let (host, port) = match a.strip_prefix('[') {
            // An IPv6 address: [addr] or [addr]:port.
            Some(v6) => {
                let (addr, after) = v6.split_once(']')?;
                addr.parse::<std::net::Ipv6Addr>().ok()?;
                (None, after.strip_prefix(':').or(after.is_empty().then_some("443"))?)
            }
            None => match a.split_once(':') {
                Some((host, port)) => (Some(host), port),
                None => (Some(a), "443"),
            },
        };
        port.parse::<u16>().ok()?;
        Some(host.is_none_or(|h| h.parse::<std::net::IpAddr>().is_ok() || dns(h)))
    });
    match url_host {
        Some(true) => Ok(()),
        _ => Err(Address::Url(url.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_the_hub_or_its_tablets_could_not_use_is_refused() {
        let ok = |hosts: &[&str], listen: &str, url: &str| {
            let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
            check_addresses(&hosts, listen, url)
        };
        for (hosts, listen, url) in [
            (&["localhost", "127.0.0.1"][..], "127.0.0.1:8443", "https://localhost:8443"),
            (&["hub.bureau.example", "10.0.0.5"], "0.0.0.0:443", "https://hub.bureau.example"),
            (&["::1"], "[::]:8443", "https://[::1]:8443/"),
            (&["hub-1.example"], "10.0.0.5:8443", "https://10.0.0.5:8443/upload"),
            (&["localhost"], "localhost:8443", "https://localhost:8443"),
        ] {
            assert_eq!(ok(hosts, listen, url), Ok(()), "{hosts:?} {listen} {url}");
        }
        for (hosts, listen, url, want) in [
            (&["localhost"][..], "notanaddr", "https://localhost:8443", Address::Listen("notanaddr".into())),
            (&["localhost"], "local host:8443", "https://localhost:8443", Address::Listen("local host:8443".into())),
            (&["localhost"], "127.0.0.1", "https://localhost:8443", Address::Listen("127.0.0.1".into())),
            (&[""], "127.0.0.1:8443", "https://localhost:8443", Address::Host("".into())),
            (&["localhost", "a b"], "127.0.0.1:8443", "https://localhost", Address::Host("a b".into())),
            (&["-x.example"], "127.0.0.1:8443", "https://localhost", Address::Host("-x.example".into())),
            (&["localhost"], "127.0.0.1:8443", "https://:8443", Address::Url("https://:8443".into())),
            (&["localhost"], "127.0.0.1:8443", "http://localhost:8443", Address::Url("http://localhost:8443".into())),
            (&["localhost"], "127.0.0.1:8443", "https://localhost:x", Address::Url("https://localhost:x".into())),
            (&["localhost"], "127.0.0.1:8443", "https://[::1", Address::Url("https://[::1".into())),
        ] {
            assert_eq!(ok(hosts, listen, url), Err(want), "{hosts:?} {listen} {url}");
        }
    }
}
