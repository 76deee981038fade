"""Local development stack: AWS resources on moto, created from infra/template.yaml."""
