"""Process definitions and their runs: the case-type catalogue, BPMN/DMN specs, the sandbox, versions."""
