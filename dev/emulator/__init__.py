"""Local gateway: runs what `terraform apply` deployed into a local AWS emulator."""
