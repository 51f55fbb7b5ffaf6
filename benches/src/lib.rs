//! Benchmark workloads shared by the `engine-bench` and `bench-suite` binaries.
