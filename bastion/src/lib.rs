//! The parts of the bastion that need neither a server nor a data directory, as a library so
//! that the fuzz targets (`fuzz/`) can link them. Today: the target grammar ([`target`]).

pub mod target;
