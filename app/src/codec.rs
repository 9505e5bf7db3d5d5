//! The codec the pages' resources travel in from the server-rendered page to the browser.
//! It writes the same JSON as Leptos' default (`JsonSerdeCodec`), but reads it from bytes,
//! as server functions read their answers: then the browser carries one JSON reader per
//! type instead of two (one for `&str`, one for `&[u8]`), which is tens of KB of WASM.

use leptos::prelude::Resource;
use leptos::server::codee::{Decoder, Encoder};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(text.as_bytes())
    }
}

/// `Resource::new`, with [`Json`].
#[track_caller]
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, Json>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::server::codee::string::JsonSerdeCodec;

    #[test]
    fn writes_and_reads_what_the_default_codec_does() {
        let value: Result<Vec<(i64, String)>, String> = Ok(vec![(1, "é \" \\ ✓".into())]);
        let ours = <Json as Encoder<_>>::encode(&value).unwrap();
        assert_eq!(
            ours,
            <JsonSerdeCodec as Encoder<_>>::encode(&value).unwrap()
        );
        let back: Result<Vec<(i64, String)>, String> = <Json as Decoder<_>>::decode(&ours).unwrap();
        assert_eq!(back, value);
    }
}
