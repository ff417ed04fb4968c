"""The model of one API built from its spec (the IR) and what is derived from the model alone."""
