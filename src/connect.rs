//! TCP connections to an issuer host: directly, or through the HTTP CONNECT proxy the environment
//! names (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, with `NO_PROXY`), read exactly as ureq reads
//! them for the discovery request, so both steps take the same route.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Instant;

use base64::Engine;
use url::{Host, Url};

/// The longest CONNECT response head accepted from a proxy.
const MAX_PROXY_RESPONSE_HEAD: usize = 8 * 1024;

/// The host (an IPv6 address without brackets) and port of an https URL.
pub fn host_and_port(url: &Url) -> (String, u16) {
    let host = match url.host() {
        Some(Host::Ipv6(ip)) => ip.to_string(),
        Some(host) => host.to_string(),
        None => String::new(),
    };
    (host, url.port_or_known_default().unwrap_or(443))
}

/// How a connection to `url` is made.
#[derive(Debug)]
pub enum Route {
    /// Straight to the host.
    Direct,
    /// Through an HTTP proxy, with a CONNECT tunnel.
    Proxy(ureq::Proxy),
}

impl Route {
    /// The route the environment's proxy settings give for `url`.
    pub fn for_url(url: &Url) -> Self {
        let Ok(uri) = url.as_str().parse::<ureq::http::Uri>() else {
            return Route::Direct;
        };
        match ureq::Proxy::try_from_env() {
            Some(proxy) if !proxy.is_no_proxy(&uri) => Route::Proxy(proxy),
            _ => Route::Direct,
        }
    }

    /// Why oidc-gen cannot take this route, when it cannot: it speaks to proxies with CONNECT only.
    pub fn unsupported(&self) -> Option<String> {
        match self {
            Route::Proxy(proxy) if proxy.protocol() != ureq::ProxyProtocol::Http => Some(format!(
                "the proxy {}:{} is {:?}, but oidc-gen reaches issuers through http:// (CONNECT) \
                 proxies only; set HTTPS_PROXY to one, or NO_PROXY for this host",
                proxy.host(),
                proxy.port(),
                proxy.protocol()
            )),
            _ => None,
        }
    }

    /// How the route reads in a message: empty when direct.
    pub fn describe(&self) -> String {
        match self {
            Route::Direct => String::new(),
            Route::Proxy(proxy) => format!(" through the proxy {}:{}", proxy.host(), proxy.port()),
        }
    }
}

/// A TCP connection to `host:port` along `route`, made before `deadline`.
pub fn connect(route: &Route, host: &str, port: u16, deadline: Instant) -> io::Result<TcpStream> {
    match route {
        Route::Direct => tcp(host, port, deadline),
        Route::Proxy(proxy) if proxy.protocol() == ureq::ProxyProtocol::Http => {
            let mut stream = tcp(proxy.host(), proxy.port(), deadline)?;
            tunnel(&mut stream, proxy, host, port, deadline)?;
            Ok(stream)
        }
        Route::Proxy(_) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            route.unsupported().unwrap_or_default(),
        )),
    }
}

/// A TCP connection to the first address of `host` that answers before `deadline`.
fn tcp(host: &str, port: u16, deadline: Instant) -> io::Result<TcpStream> {
    let mut last_error = io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
    for address in (host, port).to_socket_addrs()? {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "timed out connecting",
            ));
        }
        match TcpStream::connect_timeout(&address, remaining) {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

/// Asks the proxy on `stream` for a tunnel to `host:port`; on success the stream reaches the host.
fn tunnel(
    stream: &mut TcpStream,
    proxy: &ureq::Proxy,
    host: &str,
    port: u16,
    deadline: Instant,
) -> io::Result<()> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(user) = proxy.username() {
        let credentials = format!("{user}:{}", proxy.password().unwrap_or_default());
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        request.push_str(&format!("Proxy-Authorization: Basic {encoded}\r\n"));
    }
    request.push_str("\r\n");
    let remaining = deadline
        .saturating_duration_since(Instant::now())
        .max(std::time::Duration::from_millis(1));
    stream.set_read_timeout(Some(remaining))?;
    stream.set_write_timeout(Some(remaining))?;
    stream.write_all(request.as_bytes())?;

    // Byte by byte, so that nothing after the head (the server's TLS bytes) is consumed here.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_PROXY_RESPONSE_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the proxy's answer to CONNECT is too long",
            ));
        }
        if stream.read(&mut byte)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection",
            ));
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let status_line = head.lines().next().unwrap_or_default();
    let status = status_line.split_whitespace().nth(1).unwrap_or_default();
    if !status.starts_with('2') {
        return Err(io::Error::other(format!(
            "the proxy refused CONNECT {authority}: {status_line}"
        )));
    }
    Ok(())
}
