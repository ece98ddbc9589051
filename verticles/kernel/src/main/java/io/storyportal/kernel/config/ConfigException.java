package io.storyportal.kernel.config;

/** A configuration value that stops the start; its message is the one line the operator sees. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message, null, false, false);
  }
}
