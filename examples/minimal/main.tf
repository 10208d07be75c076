provider "aws" {
  region = var.region
}

# One channel that receives every incident and remediation change, open only to holders of a
# token from your OIDC provider.
module "incident_ws" {
  source = "../../"

  name_prefix = "incident-ws-min"

  # To try it without an identity provider: authorization = { type = "none" } (then anyone who
  # knows the URL receives every incident).
  authorization = {
    type      = "jwt"
    issuer    = var.oidc_issuer
    audiences = [var.oidc_audience]
  }

  channels = {
    events = {}
  }

  stream_routes = {
    incident    = ["events"]
    remediation = ["events"]
  }
}
