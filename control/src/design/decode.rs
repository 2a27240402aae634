//! Response bodies as scripts and the design view see them: a body sent with
//! `Content-Encoding: gzip`, `deflate` or `br` is decompressed (as Postman does), at most
//! `cap` bytes of it (the design client's body cap), so a small compressed body cannot expand
//! without bound. A body that does not decode is kept as received.

use std::io::Read;

/// The encodings the design client asks for (`Accept-Encoding`), Postman's list.
pub const ACCEPTED: &str = "gzip, deflate, br";

/// `body` decoded per the `Content-Encoding` header value `encoding` (a list, applied in
/// order, so decoded in reverse), at most `cap` bytes; `None` when nothing needed decoding
/// or it failed.
pub fn decoded(encoding: &str, body: &[u8], cap: usize) -> Option<Vec<u8>> {
    let codings: Vec<String> = encoding
        .split(',')
        .map(|coding| coding.trim().to_ascii_lowercase())
        .filter(|coding| !coding.is_empty() && coding != "identity")
        .collect();
    if codings.is_empty() {
        return None;
    }
    let mut current = body.to_vec();
    for coding in codings.iter().rev() {
        current = match coding.as_str() {
            "gzip" | "x-gzip" => read_capped(flate2::read::MultiGzDecoder::new(&current[..]), cap)?,
            // RFC 9110 says zlib-wrapped; some servers send raw deflate.
            "deflate" => read_capped(flate2::read::ZlibDecoder::new(&current[..]), cap)
                .or_else(|| read_capped(flate2::read::DeflateDecoder::new(&current[..]), cap))?,
            "br" => read_capped(
                brotli_decompressor::Decompressor::new(&current[..], 4096),
                cap,
            )?,
            _ => return None,
        };
    }
    Some(current)
}

fn read_capped(reader: impl Read, cap: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    reader
        .take(cap as u64)
        .read_to_end(&mut out)
        .ok()
        .map(|_| out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const CAP: usize = 1 << 20;

    #[test]
    fn gzip_deflate_and_brotli_decode() {
        let text = b"{\"hello\": \"world\"}".repeat(20);
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gzip.write_all(&text).unwrap();
        assert_eq!(
            decoded("gzip", &gzip.finish().unwrap(), CAP),
            Some(text.clone())
        );
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        zlib.write_all(&text).unwrap();
        assert_eq!(
            decoded("deflate", &zlib.finish().unwrap(), CAP),
            Some(text.clone())
        );
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        raw.write_all(&text).unwrap();
        assert_eq!(
            decoded("Deflate", &raw.finish().unwrap(), CAP),
            Some(text.clone())
        );
        assert_eq!(decoded("identity", &text, CAP), None);
        assert_eq!(decoded("gzip", b"not gzip", CAP), None);
        assert_eq!(decoded("zstd", &text, CAP), None);
    }
}
