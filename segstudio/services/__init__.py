"""Qt-free orchestration over core, io, store and ml."""
