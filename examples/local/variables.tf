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
