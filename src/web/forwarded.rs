//! What the client asked for: its address, the host name it addressed and the scheme it used.
//!
//! Behind a reverse proxy these arrive in forwarded headers (`X-Forwarded-For`,
//! `X-Forwarded-Host`, `X-Forwarded-Proto`, or RFC 7239 `Forwarded` with `for=`, `host=`,
//! `proto=`), which any client can also send. They are believed only when the socket's peer is
//! one of `trusted_proxies`; otherwise the client is the peer, the host is the request's own
//! (`Host`, or the HTTP/2 authority) and the scheme is the connection's. This module is the
//! only reader of those headers: actix's `connection_info`, which believes them from anyone, is
//! forbidden in `clippy.toml`.
//!
//! From a trusted proxy, the `X-Forwarded-*` headers are read when it sent any of them, else
//! `Forwarded`. Addresses are walked from the right: the nearest one that is not a trusted
//! proxy is the client (those further left are the client's to write). `X-Forwarded-Host` and
//! `-Proto` count by their last value, the one the nearest proxy wrote; in `Forwarded`, the
//! host and proto of the client's own element count.

use std::net::IpAddr;

use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpRequest, web};

use super::AppState;

const X_FORWARDED_FOR: &str = "x-forwarded-for";
const X_FORWARDED_HOST: &str = "x-forwarded-host";
const X_FORWARDED_PROTO: &str = "x-forwarded-proto";
const FORWARDED: &str = "forwarded";

/// The longest client identifier kept when a proxy names the client by something other than
/// an IP address (RFC 7239 `unknown` or an obfuscated `_name`).
const MAX_NODE_LEN: usize = 64;

/// What the client asked for, as far as Holdfast can believe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The client's address, or the name a trusted proxy gave it; `unknown` without a peer.
    pub client: String,
    /// The host name asked for: lower-case, without port, brackets or trailing dot.
    pub host: Option<String>,
    /// `http` or `https`.
    pub scheme: &'static str,
}

impl Origin {
    /// The origin of `req`, believing forwarded headers only from `trusted_proxies`.
    pub fn of(req: &HttpRequest) -> Self {
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|state| state.config.trusted_proxies.clone())
            .unwrap_or_default();
        let own_scheme = if req.app_config().secure() {
            "https"
        } else {
            "http"
        };
        Self::from_parts(
            req.peer_addr().map(|a| a.ip()),
            own_scheme,
            req.headers(),
            req.uri(),
            &trusted,
        )
    }

    /// The origin from the parts of a request: `own_scheme` is the connection's.
    pub fn from_parts(
        peer: Option<IpAddr>,
        own_scheme: &'static str,
        headers: &HeaderMap,
        uri: &actix_web::http::Uri,
        trusted: &[IpAddr],
    ) -> Self {
        let direct = Self {
            client: peer.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
            host: direct_host(headers, uri),
            scheme: own_scheme,
        };
        let Some(peer) = peer.filter(|ip| trusted.contains(ip)) else {
            return direct;
        };
        let x_forwarded = [X_FORWARDED_FOR, X_FORWARDED_HOST, X_FORWARDED_PROTO]
            .iter()
            .any(|name| headers.contains_key(*name));
        let hop = if x_forwarded {
            x_forwarded_hop(headers, trusted)
        } else {
            forwarded_hop(headers, trusted)
        };
        Self {
            client: hop.client.unwrap_or_else(|| peer.to_string()),
            host: hop.host.or(direct.host),
            scheme: hop.scheme.unwrap_or(own_scheme),
        }
    }
}

/// The client's address (sign-in throttling, sessions, the audit log).
pub fn client_address(req: &HttpRequest) -> String {
    Origin::of(req).client
}

/// The host name the client asked for, if it named one.
pub fn host(req: &HttpRequest) -> Option<String> {
    Origin::of(req).host
}

/// What forwarded headers say about the client's request; `None` where they say nothing.
#[derive(Debug, Default)]
struct Hop {
    client: Option<String>,
    host: Option<String>,
    scheme: Option<&'static str>,
}

/// The lower-cased name in a `Host`-style value (`name`, `name:port`, `[v6]:port`), without
/// trailing dot; `None` when empty.
pub fn host_name(value: &str) -> Option<String> {
    let value = value.trim();
    let name = if let Some(rest) = value.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if value.matches(':').count() == 1 {
        value.split(':').next().unwrap_or(value)
    } else {
        value
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    (!name.is_empty()).then_some(name)
}

/// The host of the request itself: the URI's authority (HTTP/2, absolute-form requests), else
/// the `Host` header.
fn direct_host(headers: &HeaderMap, uri: &actix_web::http::Uri) -> Option<String> {
    uri.authority()
        .map(|a| a.as_str().rsplit('@').next().unwrap_or_default().to_owned())
        .or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .and_then(|value| host_name(&value))
}

/// Every comma-separated value of the headers named `name`, in order.
fn list<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

fn scheme_of(value: &str) -> Option<&'static str> {
    if value.eq_ignore_ascii_case("https") {
        Some("https")
    } else if value.eq_ignore_ascii_case("http") {
        Some("http")
    } else {
        None
    }
}

/// A node as a proxy names it (`192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`,
/// `unknown`, `_hidden`): its IP address, or the name itself when it is not one.
fn node(text: &str) -> Result<IpAddr, String> {
    let text = text.trim();
    let address = if let Some(rest) = text.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if text.matches(':').count() == 1 {
        text.split(':').next().unwrap_or(text)
    } else {
        text
    };
    address.parse().map_err(|_| {
        let plain = text.len() <= MAX_NODE_LEN
            && !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
        if plain {
            text.to_owned()
        } else {
            "unknown".to_owned()
        }
    })
}

/// Walks the nodes from the right, past trusted proxies, to the client: its index and name.
fn walk<'a>(
    nodes: impl DoubleEndedIterator<Item = (usize, &'a str)>,
    trusted: &[IpAddr],
) -> Option<(usize, String)> {
    let mut last = None;
    for (index, text) in nodes.rev() {
        match node(text) {
            Ok(ip) if trusted.contains(&ip) => last = Some((index, ip.to_string())),
            Ok(ip) => return Some((index, ip.to_string())),
            Err(name) => return Some((index, name)),
        }
    }
    // Every hop is a trusted proxy: the furthest one is the client.
    last
}

fn x_forwarded_hop(headers: &HeaderMap, trusted: &[IpAddr]) -> Hop {
    let addresses = list(headers, X_FORWARDED_FOR);
    let client = walk(addresses.into_iter().enumerate(), trusted).map(|(_, name)| name);
    Hop {
        client,
        host: list(headers, X_FORWARDED_HOST)
            .last()
            .and_then(|v| host_name(v)),
        scheme: list(headers, X_FORWARDED_PROTO)
            .last()
            .and_then(|v| scheme_of(v)),
    }
}

/// One element of a `Forwarded` header: its `for`, `host` and `proto` parameters.
#[derive(Debug, Default)]
struct Element {
    r#for: Option<String>,
    host: Option<String>,
    proto: Option<String>,
}

/// Splits `text` at `separator` outside quoted strings.
fn split_unquoted(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A token or a quoted string, unquoted.
fn unquote(value: &str) -> String {
    let value = value.trim();
    let Some(inner) = value
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or('\\')
        } else {
            c
        });
    }
    out
}

/// The elements of every `Forwarded` header, in order (RFC 7239 section 4).
fn forwarded_elements(headers: &HeaderMap) -> Vec<Element> {
    headers
        .get_all(FORWARDED)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| split_unquoted(v, ','))
        .filter(|element| !element.trim().is_empty())
        .map(|element| {
            let mut parsed = Element::default();
            for pair in split_unquoted(element, ';') {
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                let value = Some(unquote(value));
                match name.trim().to_ascii_lowercase().as_str() {
                    "for" => parsed.r#for = value,
                    "host" => parsed.host = value,
                    "proto" => parsed.proto = value,
                    _ => {}
                }
            }
            parsed
        })
        .collect()
}

fn forwarded_hop(headers: &HeaderMap, trusted: &[IpAddr]) -> Hop {
    let elements = forwarded_elements(headers);
    let nodes = elements
        .iter()
        .enumerate()
        .map(|(i, e)| (i, e.r#for.as_deref().unwrap_or("unknown")));
    let Some((index, client)) = walk(nodes, trusted) else {
        return Hop::default();
    };
    let element = &elements[index];
    Hop {
        client: Some(client),
        host: element.host.as_deref().and_then(host_name),
        scheme: element.proto.as_deref().and_then(scheme_of),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    const PROXY: [u8; 4] = [10, 0, 0, 2];

    fn origin(peer: [u8; 4], trusted: &[[u8; 4]], headers: &[(&str, &str)]) -> Origin {
        let mut map = HeaderMap::new();
        map.insert(header::HOST, HeaderValue::from_static("appliance:8080"));
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let trusted: Vec<IpAddr> = trusted.iter().map(|ip| IpAddr::from(*ip)).collect();
        Origin::from_parts(
            Some(IpAddr::from(peer)),
            "http",
            &map,
            &"/".parse().unwrap(),
            &trusted,
        )
    }

    fn triple(o: &Origin) -> (&str, Option<&str>, &str) {
        (o.client.as_str(), o.host.as_deref(), o.scheme)
    }

    #[test]
    fn nothing_forwarded_is_believed_from_an_untrusted_peer() {
        let forged = [
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-host", "acme.crm.test"),
            ("x-forwarded-proto", "https"),
            (
                "forwarded",
                "for=203.0.113.9;host=acme.crm.test;proto=https",
            ),
        ];
        for header in forged {
            let o = origin([192, 0, 2, 7], &[PROXY], &[header]);
            assert_eq!(
                triple(&o),
                ("192.0.2.7", Some("appliance"), "http"),
                "{header:?}"
            );
        }
    }

    #[test]
    fn x_forwarded_headers_from_a_trusted_proxy_name_client_host_and_scheme() {
        let o = origin(
            PROXY,
            &[PROXY],
            &[
                ("x-forwarded-for", "198.51.100.1, 203.0.113.7"),
                ("x-forwarded-host", "evil.test, Acme.CRM.test:443"),
                ("x-forwarded-proto", "https"),
            ],
        );
        assert_eq!(triple(&o), ("203.0.113.7", Some("acme.crm.test"), "https"));
        // No X-Forwarded-For: the client is the peer.
        let o = origin(PROXY, &[PROXY], &[("x-forwarded-host", "acme.crm.test")]);
        assert_eq!(triple(&o), ("10.0.0.2", Some("acme.crm.test"), "http"));
    }

    #[test]
    fn the_walk_stops_at_the_first_address_that_is_not_a_trusted_proxy() {
        let inner = [10, 0, 0, 3];
        let o = origin(
            PROXY,
            &[PROXY, inner],
            &[("x-forwarded-for", "192.0.2.66, 203.0.113.7, 10.0.0.3")],
        );
        assert_eq!(o.client, "203.0.113.7");
        let o = origin(PROXY, &[PROXY, inner], &[("x-forwarded-for", "10.0.0.3")]);
        assert_eq!(o.client, "10.0.0.3", "all trusted: the furthest");
        let o = origin(
            PROXY,
            &[PROXY],
            &[("x-forwarded-for", "192.0.2.66, unknown")],
        );
        assert_eq!(o.client, "unknown", "an unnamed hop is not walked past");
    }

    #[test]
    fn forwarded_elements_give_the_clients_own_host_and_proto() {
        let o = origin(
            PROXY,
            &[PROXY, [10, 0, 0, 3]],
            &[(
                "forwarded",
                "for=192.0.2.66;host=forged.test, for=\"[2001:db8::7]:4711\";host=\"acme.crm.test\";proto=HTTPS, for=10.0.0.3;host=internal;proto=http",
            )],
        );
        assert_eq!(triple(&o), ("2001:db8::7", Some("acme.crm.test"), "https"));
        let o = origin(PROXY, &[PROXY], &[("forwarded", "for=_hidden;proto=https")]);
        assert_eq!(triple(&o), ("_hidden", Some("appliance"), "https"));
    }

    #[test]
    fn x_forwarded_headers_win_over_forwarded() {
        let o = origin(
            PROXY,
            &[PROXY],
            &[
                ("forwarded", "for=192.0.2.1;host=forged.test"),
                ("x-forwarded-for", "203.0.113.7"),
            ],
        );
        assert_eq!(triple(&o), ("203.0.113.7", Some("appliance"), "http"));
    }

    #[test]
    fn host_names_lose_port_brackets_case_and_trailing_dot() {
        for (value, expected) in [
            ("Acme.CRM.test.", Some("acme.crm.test")),
            ("acme.crm.test:8443", Some("acme.crm.test")),
            ("[::1]:8080", Some("::1")),
            ("[2001:DB8::1]", Some("2001:db8::1")),
            ("127.0.0.1:80", Some("127.0.0.1")),
            ("", None),
        ] {
            assert_eq!(host_name(value).as_deref(), expected, "{value:?}");
        }
    }

    #[test]
    fn the_http2_authority_is_the_requests_host() {
        let mut map = HeaderMap::new();
        map.insert(header::HOST, HeaderValue::from_static("other.test"));
        let uri = "https://acme.crm.test:8443/api/v1".parse().unwrap();
        let o = Origin::from_parts(None, "https", &map, &uri, &[]);
        assert_eq!(triple(&o), ("unknown", Some("acme.crm.test"), "https"));
    }
}
