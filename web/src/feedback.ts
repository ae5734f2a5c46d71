// Scan feedback a worker notices without looking: two distinct tones (a high short beep for
// OK, a low long buzz for a refusal) and a vibration where the device has one.
let audio: AudioContext | null = null;

function tone(frequency: number, seconds: number, type: OscillatorType): void {
  try {
    audio ??= new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = type;
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + seconds);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + seconds);
  } catch {
    // no audio output: the flash and the text still tell
  }
}

export function signalOk(): void {
  tone(1320, 0.09, 'sine');
  navigator.vibrate?.(40);
}

export function signalRefused(): void {
  tone(220, 0.35, 'square');
  navigator.vibrate?.([120, 60, 120]);
}
