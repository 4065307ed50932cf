//! The addresses a hub is made with, checked before anything is made: where it listens, the
//! names its certificate is for, and the address its tablets are given.

/// What is wrong with an address given to `init`, said before anything is made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Address {
    #[error("--listen {0:?} is not an address and port to listen on, such as 0.0.0.0:8443")]
    Listen(String),
    #[error("--host {0:?} is not a DNS name or an IP address the hub's certificate can name")]
    Host(String),
    #[error("--url {0:?} is not an address tablets can use: https://HOST:PORT, such as https://hub.example:8443")]
    Url(String),
    #[error("--url {url:?} names a host the hub's certificate is not for ({hosts}): give it with --host too")]
    UrlHost { url: String, hosts: String },
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
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
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
    // Read as the tablets read it, and naming one of the certificate's hosts (else the first
    // sync fails on a name the certificate does not carry).
    let (host, _, _) = doorstep_sync::bundle::hub_address(url).ok_or_else(|| Address::Url(url.to_string()))?;
    let same = |h: &String| match (h.parse::<std::net::IpAddr>(), host.parse::<std::net::IpAddr>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => h.eq_ignore_ascii_case(&host),
    };
    if !hosts.iter().any(same) {
        return Err(Address::UrlHost { url: url.to_string(), hosts: hosts.join(", ") });
    }
    Ok(())
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
            (&["hub.bureau.example", "10.0.0.5"], "0.0.0.0:443", "https://hub.bureau.example:443"),
            (&["::1"], "[::]:8443", "https://::1:8443/"),
            (&["hub_1.lan", "10.0.0.5"], "10.0.0.5:8443", "https://10.0.0.5:8443"),
            (&["localhost"], "localhost:8443", "https://LOCALHOST:8443"),
            (&["::1"], "[::1]:8443", "https://0:0:0:0:0:0:0:1:8443"),
        ] {
            assert_eq!(ok(hosts, listen, url), Ok(()), "{hosts:?} {listen} {url}");
        }
        let url_host = |url: &str, hosts: &str| Address::UrlHost { url: url.into(), hosts: hosts.into() };
        for (hosts, listen, url, want) in [
            (&["localhost"][..], "notanaddr", "https://localhost:8443", Address::Listen("notanaddr".into())),
            (&["localhost"], "local host:8443", "https://localhost:8443", Address::Listen("local host:8443".into())),
            (&["localhost"], "127.0.0.1", "https://localhost:8443", Address::Listen("127.0.0.1".into())),
            (&[""], "127.0.0.1:8443", "https://localhost:8443", Address::Host("".into())),
            (&["localhost", "a b"], "127.0.0.1:8443", "https://localhost:1", Address::Host("a b".into())),
            (&["-x.example"], "127.0.0.1:8443", "https://localhost:1", Address::Host("-x.example".into())),
            // What the tablet's own reading refuses: no port, a path, brackets, no host, http.
            (&["localhost"], "127.0.0.1:8443", "https://localhost", Address::Url("https://localhost".into())),
            (
                &["localhost"],
                "127.0.0.1:8443",
                "https://localhost:8443/up",
                Address::Url("https://localhost:8443/up".into()),
            ),
            (&["::1"], "[::]:8443", "https://[::1]:8443", Address::Url("https://[::1]:8443".into())),
            (&["localhost"], "127.0.0.1:8443", "https://:8443", Address::Url("https://:8443".into())),
            (&["localhost"], "127.0.0.1:8443", "http://localhost:8443", Address::Url("http://localhost:8443".into())),
            (&["localhost"], "127.0.0.1:8443", "https://localhost:x", Address::Url("https://localhost:x".into())),
            // A host the certificate is not for.
            (&["localhost"], "127.0.0.1:8443", "https://10.0.0.5:8443", url_host("https://10.0.0.5:8443", "localhost")),
        ] {
            assert_eq!(ok(hosts, listen, url), Err(want), "{hosts:?} {listen} {url}");
        }
    }
}
