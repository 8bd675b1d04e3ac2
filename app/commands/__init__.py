"""The `hotline` command's groups, one module each; app.cli builds the parser from them."""
