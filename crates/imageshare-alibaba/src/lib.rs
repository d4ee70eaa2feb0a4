//! imageshare-alibaba (being built).
