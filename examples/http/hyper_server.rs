//! For the benchmark (`corona/benches/http.sh`): the same two routes served by `hyper`'s
//! HTTP/1 server, the server users would pick instead.

use std::convert::Infallible;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::proto;

async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => Response::new(Full::new(Bytes::from_static(proto::GREETING))),
        (&Method::POST, "/echo") => {
            let body = request
                .into_body()
                .collect()
                .await
                .map_or_else(|_| Bytes::new(), |b| b.to_bytes());
            Response::new(Full::new(body))
        }
        _ => {
            let mut not_found = Response::new(Full::new(Bytes::from_static(b"not found\n")));
            *not_found.status_mut() = StatusCode::NOT_FOUND;
            not_found
        }
    };
    Ok(response)
}

pub async fn serve_tcp(stream: tokio::net::TcpStream) -> hyper::Result<()> {
    let _ = stream.set_nodelay(true);
    hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), hyper::service::service_fn(handle))
        .await
}
