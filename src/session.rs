//! One live look-up's connections. The discovery request goes through an HTTP agent whose TLS
//! handshakes are this module's: verified exactly like [`tls::fetch_chain`], with the chain each
//! server sent recorded. A host the request already reached is never contacted again for its
//! chain, so a same-host issuer costs one TLS connection. Proxies work as for any ureq request:
//! ureq opens the CONNECT tunnel, and the handshake runs inside it.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::{ClientConnection, StreamOwned};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout,
    TcpConnector, Transport, TransportAdapter,
};
use url::Url;

use crate::connect::{Route, host_and_port};
use crate::error::{Error, Result};
use crate::tls::{self, PeerChain};
use crate::trust::TrustAnchors;

/// The connections of one look-up: the anchors they are verified against, and what they saw.
#[derive(Debug)]
pub struct Session {
    anchors: TrustAnchors,
    timeout: Duration,
    records: Arc<Mutex<Records>>,
}

/// What the handshakes of a session saw.
#[derive(Debug, Default)]
struct Records {
    /// Each endpoint's chain, in the order they were reached.
    chains: Vec<((String, u16), PeerChain)>,
    /// The detailed error of the last refused handshake, with the chain the server sent.
    refused: Option<Error>,
}

impl Session {
    /// A session whose connections are verified against `anchors`, each step bounded by `timeout`.
    pub fn new(anchors: TrustAnchors, timeout: Duration) -> Self {
        Session {
            anchors,
            timeout,
            records: Arc::default(),
        }
    }

    /// The longest any one network step may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// An HTTP agent with `config` whose https connections are this session's.
    pub fn agent(&self, config: ureq::config::Config) -> ureq::Agent {
        let connector =
            ().chain(ConnectProxyConnector::default())
                .chain(TcpConnector::default())
                .chain(RecordingConnector {
                    anchors: self.anchors.clone(),
                    timeout: self.timeout,
                    records: self.records.clone(),
                });
        ureq::Agent::with_parts(config, connector, LiteralsFirst::default())
    }

    /// The chain `url`'s host and port sent: recorded by an earlier request of this session, or
    /// from a handshake made now.
    pub fn chain(&self, url: &Url) -> Result<PeerChain> {
        let endpoint = host_and_port(url);
        if let Some(chain) = self.recorded(&endpoint) {
            return Ok(chain);
        }
        let chain = tls::fetch_chain(url, &self.anchors, self.timeout)?;
        let mut records = self.records.lock().expect("not poisoned");
        records.chains.push((endpoint, chain.clone()));
        Ok(chain)
    }

    fn recorded(&self, endpoint: &(String, u16)) -> Option<PeerChain> {
        let records = self.records.lock().expect("not poisoned");
        records
            .chains
            .iter()
            .find(|(seen, _)| seen == endpoint)
            .map(|(_, chain)| chain.clone())
    }

    /// The detailed error of a handshake this session's agent had refused, if one was.
    pub fn take_refusal(&self) -> Option<Error> {
        self.records.lock().expect("not poisoned").refused.take()
    }
}

/// Resolves an IP address literal itself, and anything else as ureq does: ureq resolves on a
/// thread of its own whenever a timeout is set, which an address needs no time for.
#[derive(Debug, Default)]
struct LiteralsFirst(DefaultResolver);

impl Resolver for LiteralsFirst {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'));
        let port = uri.port_u16().or(match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        });
        match (host.and_then(|h| h.parse::<std::net::IpAddr>().ok()), port) {
            (Some(ip), Some(port)) => {
                let mut addresses = self.empty();
                addresses.push(std::net::SocketAddr::new(ip, port));
                Ok(addresses)
            }
            _ => self.0.resolve(uri, config, timeout),
        }
    }
}

/// Wraps the connection ureq opened (directly, or through a CONNECT tunnel) in a verified TLS
/// session that records the chain.
#[derive(Debug)]
struct RecordingConnector {
    anchors: TrustAnchors,
    timeout: Duration,
    records: Arc<Mutex<Records>>,
}

impl<In: Transport> Connector<In> for RecordingConnector {
    type Out = Either<In, RecordingTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let url = Url::parse(&details.uri.to_string())
            .map_err(|_| ureq::Error::Tls("the request URI is not a URL"))?;
        let endpoint = host_and_port(&url);
        let handshake =
            tls::Handshake::start(&url, &self.anchors, self.timeout, &Route::for_url(&url));
        let mut records = self.records.lock().expect("not poisoned");
        let (mut connection, handshake) = match handshake {
            Ok(started) => started,
            Err(error) => {
                records.refused = Some(error);
                return Err(ureq::Error::Tls("the TLS handshake could not start"));
            }
        };
        let mut socket = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        socket.set_timeout(details.timeout);
        if let Err(e) = connection.complete_io(&mut socket) {
            records.refused = Some(handshake.refusal(&e));
            return Err(e.into());
        }
        match handshake.finish(&connection) {
            Ok(chain) => records.chains.push((endpoint, chain)),
            Err(error) => {
                records.refused = Some(error);
                return Err(ureq::Error::Tls("the server sent no certificate"));
            }
        }
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(RecordingTransport {
            buffers,
            stream: StreamOwned::new(connection, socket),
        })))
    }
}

/// A TLS stream over ureq's transport, as ureq's own rustls transport is.
struct RecordingTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for RecordingTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordingTransport")
    }
}

impl Transport for RecordingTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}
