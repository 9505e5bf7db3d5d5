//! api_tokens: filled by its issue's work.
