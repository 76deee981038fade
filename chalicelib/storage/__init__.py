"""DynamoDB storage: pynamodb models mirroring infra/template.yaml."""
