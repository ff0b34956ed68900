//! Workers against an in-process network (LiteSVM through the SDK, the program native or the
//! `.so` as `TESSERA_PROGRAM_MODE` says): real agents, real kernels, real files.
mod fixture;
mod games;
mod rounds;
