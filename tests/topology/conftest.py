from opensage.models.scripted import FunctionModel


def team_model(scripts):
    """One model for a whole team: each agent, known by its instructions, follows its own
    script; its step is how many replies it has given in its own conversation. A step may be a
    function of the messages (to pass one agent's output on to the next)."""

    def reply(messages, tools):
        key = messages[0].content if messages[0].role == "system" else ""
        step = scripts[key][sum(m.role == "assistant" for m in messages)]
        return step(messages) if callable(step) else step

    return FunctionModel(reply)


def call(tool, /, **arguments):
    return {"tool_calls": [{"name": tool, "arguments": arguments}]}
