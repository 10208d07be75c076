output "incident_ws" {
  description = "Every output of the module, as one object: what the local stack's harness reads."
  value       = module.incident_ws
}
