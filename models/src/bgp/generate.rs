//! Synthetic topologies.
