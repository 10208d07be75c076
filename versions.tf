terraform {
  # 1.9: validation blocks that refer to other variables (stream_routes -> channels).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # >= 5.76.0: accepts ttl.attribute_name with ttl.enabled = false
      # (hashicorp/terraform-provider-aws#40046), which lets connection_ttl_seconds = 0 turn TTL
      # off. Tested with 5.100.0; reviewed against the 6.x upgrade guide and changelog.
      version = ">= 5.76.0, < 7.0.0"
    }
  }
}
