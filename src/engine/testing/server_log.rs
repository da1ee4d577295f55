//! A tiny in-memory server log that serves pull pages by cursor, the way the contract says
//! a server does (PROTOCOL §3): items in log order, `pageSize` default 500 clamped to 2000,
//! `400 bad_page_size` below 1, `410 cursor_invalid` for a cursor it did not issue.
//!
//! Native tests and property tests pull from it through [`crate::engine::ScriptedTransport`]; the
//! reference server in `server/` is the real thing the browser tests use.

use crate::engine::net::transport::{HttpRequest, HttpResponse};
use crate::protocol::{PullItem, PullPage};
use std::cell::RefCell;

const CURSOR_PREFIX: &str = "log.";

/// An append-only list of pull items, served page by page.
#[derive(Debug, Default)]
pub struct ServerLog {
    items: RefCell<Vec<PullItem>>,
}

impl ServerLog {
    pub fn new(items: Vec<PullItem>) -> Self {
        ServerLog {
            items: RefCell::new(items),
        }
    }

    /// Appends items (server-side changes after a pull).
    pub fn extend(&self, items: impl IntoIterator<Item = PullItem>) {
        self.items.borrow_mut().extend(items);
    }

    pub fn len(&self) -> usize {
        self.items.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.borrow().is_empty()
    }

    /// The cursor a page ending at log position `position` carries.
    pub fn cursor_at(position: usize) -> String {
        format!("{CURSOR_PREFIX}{position}")
    }

    /// The page that starts at `cursor` (`None` = from the beginning), or `None` when the
    /// cursor was not issued by this log.
    pub fn page(&self, cursor: Option<&str>, page_size: usize) -> Option<PullPage> {
        let items = self.items.borrow();
        let start = match cursor {
            None => 0,
            Some(c) => c
                .strip_prefix(CURSOR_PREFIX)
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))?
                .parse::<usize>()
                .ok()
                .filter(|p| *p <= items.len())?,
        };
        let end = start.saturating_add(page_size.max(1)).min(items.len());
        Some(PullPage {
            items: items.get(start..end).unwrap_or_default().to_vec(),
            next_cursor: Self::cursor_at(end),
            drained: end == items.len(),
        })
    }

    /// Every (request cursor, page) of one clean pass from a cold start to drained.
    pub fn clean_pass(&self, page_size: usize) -> Vec<(Option<String>, PullPage)> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        while let Some(page) = self.page(cursor.as_deref(), page_size) {
            let next = page.next_cursor.clone();
            let drained = page.drained;
            out.push((cursor, page));
            if drained {
                break;
            }
            cursor = Some(next);
        }
        out
    }

    /// Answers a `GET /internal/sync/pull?…` request.
    pub fn respond(&self, request: &HttpRequest) -> HttpResponse {
        let query = request
            .path_and_query
            .split_once('?')
            .map_or("", |(_, q)| q);
        let mut cursor = None;
        let mut page_size = 500usize;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            match name {
                "cursor" => cursor = value,
                "pageSize" => match value.and_then(|v| v.parse::<i64>().ok()) {
                    Some(n) if n >= 1 => page_size = usize::try_from(n.min(2000)).unwrap_or(2000),
                    _ => return json_response(400, r#"{"error":"bad_page_size"}"#),
                },
                _ => {}
            }
        }
        match self.page(cursor.as_deref(), page_size) {
            Some(page) => json_response(200, &page.to_json_string()),
            None => json_response(410, r#"{"error":"cursor_invalid"}"#),
        }
    }
}

fn json_response(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        retry_after: None,
        body: body.as_bytes().to_vec(),
    }
}

/// Decodes `%XX` escapes (and `+` as space); `None` on a broken escape or non-UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let text = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(text, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}
