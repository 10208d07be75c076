variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "oidc_issuer" {
  description = "Issuer of the dashboards' tokens on the history channel: your Cognito user pool, `https://cognito-idp.<region>.amazonaws.com/<user-pool-id>` (the default is a placeholder)."
  type        = string
  default     = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE"
}

variable "oidc_audiences" {
  description = "The Cognito app client ids of the dashboards (the default is a placeholder)."
  type        = list(string)
  default     = ["example-dashboard-client-id"]
}

variable "create_api_gateway_account_role" {
  description = "Whether to create and set the account's API Gateway CloudWatch role (account-wide, per region). Leave `false` if the account already has one."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the tables, the queue and every log group (its policy must allow CloudWatch Logs); `null` for AWS managed encryption."
  type        = string
  default     = null
}

variable "lambda_reserved_concurrency" {
  description = "Concurrency reserved for every connect and authorizer function, e.g. `{ connect = 50, authorizer = 50 }`; `{}` reserves none."
  type        = map(number)
  default     = {}
}

variable "alarm_email" {
  description = "Email address the CloudWatch alarms notify, through the SNS topic `incident-ws-alarms` (the address must confirm the subscription); `null` creates no alarm."
  type        = string
  default     = null
}

variable "create_dashboard" {
  description = "Whether to create the CloudWatch dashboard `incident-ws-incident-websocket`."
  type        = bool
  default     = false
}
