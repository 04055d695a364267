"""Model families: one module per framework, each registering its adapter by name."""
