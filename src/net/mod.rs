//! NATS-Bench networks in tch.
