# The memory the root module gives each function (lambda_memory_sizes, lambda_memory_size): the
# defaults of `python -m dev.bench.sizing`, the one setting for all that older configurations
# use, and a function's own setting over both; planned against a mock provider. How each
# module hands it to its functions: websocket_channel and incident_stream; the deployed values:
# tests/integration.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

# Every function deployed: a JWT channel (authorizer), presence, and findings.
variables {
  authorization = { type = "none" }
  channels = {
    events  = {}
    history = { presence = true, authorization = { type = "jwt", issuer = "https://issuer.example.com", audiences = ["dashboards"] } }
  }
  stream_routes   = { incident = ["events", "history"], remediation = ["history"] }
  finding_sources = { guardduty = {} }
}

run "each_function_gets_its_default_memory" {
  command = plan

  assert {
    condition     = local.memory_sizes.connect == 576
    error_message = "connect must default to 576 MB."
  }

  assert {
    condition     = local.memory_sizes.disconnect == 256
    error_message = "disconnect must default to 256 MB."
  }

  assert {
    condition     = local.memory_sizes.authorizer == 128
    error_message = "The authorizer must default to 128 MB."
  }

  assert {
    condition     = local.memory_sizes.replay == 640
    error_message = "replay must default to 640 MB."
  }

  assert {
    condition     = local.memory_sizes.stream_processor == 960 && local.memory_sizes.fanout_worker == 960
    error_message = "The stream processor and the fan-out worker must default to 960 MB."
  }

  assert {
    condition     = local.memory_sizes.heartbeat == 960 && local.memory_sizes.presence == 960
    error_message = "The heartbeat and the presence function must default to 960 MB."
  }

  assert {
    condition     = local.memory_sizes.findings == 192
    error_message = "The findings function must default to 192 MB."
  }
}

run "lambda_memory_size_sets_every_function_as_before" {
  command = plan

  variables {
    lambda_memory_size = 256
  }

  assert {
    condition = toset([
      local.memory_sizes.connect,
      local.memory_sizes.disconnect,
      local.memory_sizes.authorizer,
      local.memory_sizes.replay,
      local.memory_sizes.stream_processor,
      local.memory_sizes.fanout_worker,
      local.memory_sizes.heartbeat,
      local.memory_sizes.presence,
      local.memory_sizes.findings,
    ]) == toset([256])
    error_message = "lambda_memory_size alone must give every function that memory."
  }
}

run "a_functions_own_memory_beats_lambda_memory_size" {
  command = plan

  variables {
    lambda_memory_size  = 256
    lambda_memory_sizes = { stream_processor = 1024, fanout_worker = 1536, connect = 192 }
  }

  assert {
    condition     = local.memory_sizes.stream_processor == 1024 && local.memory_sizes.fanout_worker == 1536
    error_message = "lambda_memory_sizes.stream_processor and .fanout_worker must set those functions' memory."
  }

  assert {
    condition     = local.memory_sizes.connect == 192
    error_message = "lambda_memory_sizes.connect must set the connect functions' memory."
  }

  assert {
    condition     = local.memory_sizes.disconnect == 256 && local.memory_sizes.heartbeat == 256
    error_message = "A function lambda_memory_sizes leaves out must take lambda_memory_size."
  }
}

run "a_functions_own_memory_beats_its_default" {
  command = plan

  variables {
    lambda_memory_sizes = { heartbeat = 1769 }
  }

  assert {
    condition     = local.memory_sizes.heartbeat == 1769 && local.memory_sizes.presence == 960
    error_message = "lambda_memory_sizes.heartbeat must set the heartbeat's memory and leave the others at their defaults."
  }
}
