"""Output from the model: typed models, the package (resources, docs, runtime), the OpenAPI
export, formatting and writing."""
