"""The spec as written: YAML loaded with positions, the meta-schema and the semantic rules, errors
that name file:line:col."""
