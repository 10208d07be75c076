provider "aws" {
  region = var.region
}

# One channel that receives every incident and remediation change.
module "incident_ws" {
  source = "../../"

  name_prefix = "incident-ws-min"

  channels = {
    events = {}
  }

  stream_routes = {
    incident    = ["events"]
    remediation = ["events"]
  }
}
