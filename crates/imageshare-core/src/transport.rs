//! HTTP transport (filled next).
