//! The HTTP client vendor APIs (Docker Hub, Harbor) are called through, so each call counts
//! in its registry's request statistics; so does each run of the cloud credential helper.

use std::sync::Arc;

use crate::registry::stats::{RequestKind, StatsRecorder};

/// A `reqwest::Client` that records every request it sends as a vendor API call.
#[derive(Debug, Clone)]
pub struct VendorHttp {
    client: reqwest::Client,
    stats: Arc<StatsRecorder>,
}

impl VendorHttp {
    pub fn new(client: reqwest::Client, stats: Arc<StatsRecorder>) -> VendorHttp {
        VendorHttp { client, stats }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Send `request`, counting it with its status (0 when no answer came).
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let result = request.send().await;
        self.stats.request(
            RequestKind::VendorApi,
            result
                .as_ref()
                .ok()
                .map(|response| response.status().as_u16()),
        );
        result
    }

    /// A run of the cloud credential helper: one exchange with the vendor, counted as a 200
    /// when it succeeded and as a request without an answer when it did not.
    pub fn count_helper_run(&self, succeeded: bool) {
        self.stats
            .request(RequestKind::VendorApi, succeeded.then_some(200));
    }

    /// Body bytes read from a vendor answer.
    pub fn received(&self, bytes: u64) {
        self.stats.received(bytes);
    }
}

/// A client whose calls are counted nowhere: for one-off uses and tests.
impl From<reqwest::Client> for VendorHttp {
    fn from(client: reqwest::Client) -> VendorHttp {
        VendorHttp::new(client, Arc::default())
    }
}
