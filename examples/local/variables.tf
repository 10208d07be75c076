variable "aws_endpoint" {
  description = "URL of the local AWS API emulator every service is sent to, e.g. `http://127.0.0.1:5000` (moto server)."
  type        = string
}

variable "region" {
  description = "Region the emulator pretends to be."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "incident-ws"
}

variable "oidc_issuer" {
  description = "URL of the local OIDC issuer whose tokens the channels accept, e.g. `http://127.0.0.1:8001` (http only on 127.0.0.1 or localhost)."
  type        = string
}

variable "oidc_audience" {
  description = "The `aud` the local issuer's tokens carry."
  type        = string
  default     = "incident-websocket"
}
