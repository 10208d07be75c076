terraform {
  # 1.9: validation blocks that refer to other variables (stream_routes -> channels).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # >= 5.76.0: has the fix that accepts ttl.attribute_name with ttl.enabled = false
      # (hashicorp/terraform-provider-aws#40046), which is what lets connection_ttl_seconds = 0
      # turn TTL off. Tested with 5.100.0; 6.x is not tested.
      version = ">= 5.76.0, < 6.0.0"
    }
  }
}
