//! imageshare-tencent (being built).
