"""Why each assignment runs its own workflow: one multi-instance workflow holding every grid's lifecycle, against
one small workflow per assignment (bpmn/campaign/assignment.bpmn), in state size and time.

Run from the project root: python -m bench.campaign_state [--grids 238 2480]. SpiffWorkflow only, no database.
"""
import argparse
import statistics
import time
import zlib

from engine.campaigns.services import PROCESS
from engine.process import runner, specs

MULTI = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="multi_definitions"
  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="campaign_multi" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:subProcess id="per_grid" name="each grid">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics isSequential="false">
        <bpmn:loopCardinality>grids</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics>
      <bpmn:startEvent id="grid_start"><bpmn:outgoing>g1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:userTask id="accept_assignment"><bpmn:incoming>g1</bpmn:incoming><bpmn:outgoing>g2</bpmn:outgoing>
      </bpmn:userTask>
      <bpmn:userTask id="submit_assignment"><bpmn:incoming>g2</bpmn:incoming><bpmn:outgoing>g3</bpmn:outgoing>
      </bpmn:userTask>
      <bpmn:userTask id="review_submission"><bpmn:incoming>g3</bpmn:incoming><bpmn:outgoing>g4</bpmn:outgoing>
      </bpmn:userTask>
      <bpmn:endEvent id="grid_end"><bpmn:incoming>g4</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="g1" sourceRef="grid_start" targetRef="accept_assignment" />
      <bpmn:sequenceFlow id="g2" sourceRef="accept_assignment" targetRef="submit_assignment" />
      <bpmn:sequenceFlow id="g3" sourceRef="submit_assignment" targetRef="review_submission" />
      <bpmn:sequenceFlow id="g4" sourceRef="review_submission" targetRef="grid_end" />
    </bpmn:subProcess>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="per_grid" />
    <bpmn:sequenceFlow id="f2" sourceRef="per_grid" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def _ms(call, repeat: int = 5) -> tuple[float, object]:
    took, result = [], None
    for _ in range(repeat):
        begin = time.perf_counter()
        result = call()
        took.append((time.perf_counter() - begin) * 1000)
    return statistics.median(took), result


def multi(n: int) -> None:
    spec = specs.parse("campaign_multi", {"multi/campaign_multi.bpmn": MULTI})
    started, (workflow, step) = _ms(lambda: runner.start(spec, {"grids": n}), 3)
    state = runner.dump(spec, workflow)
    size, packed = len(state.encode()), len(zlib.compress(state.encode(), 1))

    def one_action():
        restored = runner.restore(spec, state)
        ready = runner.advance(restored).ready
        runner.complete(restored, ready[0].id, {})
        return runner.dump(spec, restored)

    action, _ = _ms(one_action, 3)
    print(f"  one multi-instance workflow for {n:>5} grids: {len(step.ready):>5} tasks ready; start {started:7.0f} ms;"
          f" state {size / 1024:8.0f} KB ({packed / 1024:6.0f} KB compressed); one grid's action (restore, complete,"
          f" save the whole state) {action:7.0f} ms, every grid's action serialised on one row")


def per_assignment() -> None:
    spec = specs.parse(PROCESS.process_id, PROCESS.read_files())
    started, (workflow, step) = _ms(lambda: runner.start(spec, {"campaign": "x"}), 20)
    state = runner.dump(spec, workflow)
    size, packed = len(state.encode()), len(zlib.compress(state.encode(), 1))

    def one_action():
        restored = runner.restore(spec, state)
        runner.complete(restored, step.ready[0].id, {})
        return runner.dump(spec, restored)

    action, _ = _ms(one_action, 20)
    print(f"  one workflow per assignment: start {started:.1f} ms (once per campaign: every assignment starts from the "
          f"same state); state {size / 1024:.1f} KB ({packed / 1024:.1f} KB compressed) per assignment; one action "
          f"(restore, complete, save) {action:.1f} ms, on the assignment's own row")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, nargs="*", default=[238, 2480])
    args = parser.parse_args()
    per_assignment()
    for n in args.grids:
        multi(n)


if __name__ == "__main__":
    main()
