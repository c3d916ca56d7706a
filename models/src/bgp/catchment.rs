//! Static anycast catchments.
