"""Hospital scale over MQTT (issue 13): stations publish their beds to a broker, viewers show them."""
