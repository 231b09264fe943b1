import { Alert, Badge, Button, Group, Modal, Stack, Text } from '@mantine/core';
import { type ReactElement, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * Reads a card's QR code from the camera, in the browser: frames are decoded in memory and dropped, no picture is
 * kept. Calls `onText` with the first code found and closes.
 */
export function CameraScanDialog(props: {
  opened: boolean;
  onClose: () => void;
  onText: (text: string) => void;
}): ReactElement {
  const { opened, onClose, onText } = props;
  const { t } = useTranslation();
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string>();
  const [engine, setEngine] = useState<'native' | 'js'>();
  const found = useRef(onText);
  found.current = onText;

  useEffect(() => {
    if (!opened) {
      return;
    }
    let stream: MediaStream | undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setError(undefined);
    setEngine(undefined);
    const run = async (): Promise<void> => {
      try {
        if (!navigator.mediaDevices?.getUserMedia) {
          throw new Error('getUserMedia');
        }
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: 'environment', width: { ideal: 1280 } },
          audio: false,
        });
        if (stopped || !video.current) {
          return;
        }
        video.current.srcObject = stream;
        await video.current.play();
        // the decoder is loaded only when a camera scan starts (keeps it out of the main bundle)
        const { createFrameReader } = await import('./qr-frame.ts');
        const reader = await createFrameReader();
        setEngine(reader.native ? 'native' : 'js');
        const tick = async (): Promise<void> => {
          if (stopped || !video.current) {
            return;
          }
          const text = await reader.read(video.current).catch(() => undefined);
          if (text && !stopped) {
            stopped = true;
            found.current(text);
            return;
          }
          timer = setTimeout(() => void tick(), 150);
        };
        void tick();
      } catch (err) {
        if (!stopped) {
          setError(err instanceof Error ? err.message : String(err));
        }
      }
    };
    void run();
    return () => {
      stopped = true;
      if (timer) {
        clearTimeout(timer);
      }
      stream?.getTracks().forEach((track) => track.stop());
    };
  }, [opened]);

  return (
    <Modal opened={opened} onClose={onClose} title={t('reception.camera.title')} size="lg">
      <Stack>
        <Text size="sm">{t('reception.camera.hint')}</Text>
        {error ? (
          <Alert color="red" role="alert">
            {t('reception.camera.unavailable', { message: error })}
          </Alert>
        ) : (
          <video
            ref={video}
            aria-label={t('reception.camera.video')}
            muted
            playsInline
            style={{ width: '100%', borderRadius: 8, background: '#000' }}
          />
        )}
        <Group justify="space-between">
          <div role="status">
            {engine ? (
              <Badge variant="light">
                {t(engine === 'native' ? 'reception.camera.engineNative' : 'reception.camera.engineJs')}
              </Badge>
            ) : (
              !error && (
                <Text size="xs" c="dimmed">
                  {t('reception.camera.starting')}
                </Text>
              )
            )}
          </div>
          <Button variant="default" onClick={onClose}>
            {t('reception.camera.close')}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
