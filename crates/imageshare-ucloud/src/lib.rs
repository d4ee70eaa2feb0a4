//! imageshare-ucloud (being built).
