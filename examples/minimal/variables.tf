variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "oidc_issuer" {
  description = "Issuer URL of your OIDC provider, e.g. `https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123`."
  type        = string
}

variable "oidc_audience" {
  description = "The `aud` your clients' tokens carry (for Cognito: the app client id)."
  type        = string
}
